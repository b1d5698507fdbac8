import { MemberFacingError } from '../lib/member-error.ts';

/**
 * Something a member or admin asked for that the core refuses. `message` is written for them: the chat
 * adapters show it as is (an ephemeral reply), so it says what is wrong and what to do, with no internals.
 */
export class UserError extends MemberFacingError {
  override readonly name: string = 'UserError';
  declare readonly code:
    | 'invalid-input'
    | 'not-found'
    | 'forbidden'
    | 'not-cancellable'
    | 'gone'
    | 'no-timelapse';
  constructor(code: UserError['code'], message: string) {
    super(code, message);
  }
}

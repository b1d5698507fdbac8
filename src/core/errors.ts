/**
 * Something a member or admin asked for that the core refuses. `message` is written for them: the chat
 * adapters show it as is (an ephemeral reply), so it says what is wrong and what to do, with no internals.
 */
export class UserError extends Error {
  override readonly name: string = 'UserError';
  constructor(
    readonly code: 'invalid-input' | 'not-found' | 'forbidden' | 'not-cancellable',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The one base of every error whose message a person reads in chat: what went wrong (`code`, for programs and
 * logs), the sentence for the person who can act on it, and who that is. The core's refusals (UserError,
 * QuotaError), the images' (ImageError) and the downloads' (DownloadError) are subclasses; each chat adapter has
 * one renderer that turns any error into its platform's message through {@link memberReply}.
 *
 * The shape follows Sapphire's UserError (an identifier and a context object the renderer may use), with the
 * audience added: a member or an admin reads the message itself; an operator's problem (a missing scope, a bad
 * setting) is logged in the operator's words while the member reads a general sentence; anything that is not a
 * MemberFacingError is an internal fault, logged, and never shown.
 */

/** Who can act on an error: the member who asked, a server or workspace admin, or whoever runs the bot. */
export type Audience = 'member' | 'admin' | 'operator';

export interface MemberFacingOptions {
  /** Default 'member'. */
  readonly audience?: Audience;
  /** Facts a renderer may add in its platform's words (e.g. `resetsAt`, a Date, shown as a relative time). */
  readonly context?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
  /**
   * For an operator's problem: whether the member also reads `message`, after the general sentence. For a message
   * that says what went wrong on the bot's side and its likely cause (e.g. a file host answering with its sign-in
   * page), with nothing secret in it, so the member knows it is not their doing and what to tell the admins.
   */
  readonly tellMember?: boolean;
  /**
   * For an operator's problem: what the member reads instead of the general sentence, where a plainer one says
   * more (e.g. that painting is unavailable altogether); in the member's words, with nothing of the setup in it.
   */
  readonly memberText?: string;
}

export class MemberFacingError extends Error {
  override readonly name: string = 'MemberFacingError';
  readonly code: string;
  readonly audience: Audience;
  readonly context: Readonly<Record<string, unknown>>;
  readonly tellMember: boolean;
  readonly memberText: string | undefined;

  /** `message` is the whole sentence for the audience: what is wrong and what they can do about it. */
  constructor(code: string, message: string, options: MemberFacingOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.audience = options.audience ?? 'member';
    this.context = options.context ?? {};
    this.tellMember = options.tellMember ?? false;
    this.memberText = options.memberText;
  }
}

/** What a member reads when something failed on the bot's side: the same words on every platform. */
export const INTERNAL_FAULT_TEXT = 'Something went wrong on my side; please try again in a moment.';

/** What a member reads when the bot's setup is at fault; the operator's own sentence goes to the log. */
export const OPERATOR_FAULT_TEXT =
  'I can’t do that right now because of how I’m set up; the people running me can see why in my logs.';

export interface MemberReply {
  /** The sentence the member reads (the renderer adds platform formatting and context). */
  readonly text: string;
  /** Who can act; 'internal' for a fault in the bot itself. */
  readonly audience: Audience | 'internal';
  /** Whether someone running the bot must look at it (operator's problems and internal faults). */
  readonly log: boolean;
  readonly code: string;
  readonly context: Readonly<Record<string, unknown>>;
}

/** Classifies any error for a member: their own words for member and admin errors, a general sentence else. */
export function memberReply(error: unknown): MemberReply {
  if (!(error instanceof MemberFacingError)) {
    return { text: INTERNAL_FAULT_TEXT, audience: 'internal', log: true, code: 'internal', context: {} };
  }
  const { audience, code, context } = error;
  if (audience === 'operator') {
    const told = error.message.charAt(0).toUpperCase() + error.message.slice(1);
    const general = error.memberText ?? OPERATOR_FAULT_TEXT;
    const text = error.tellMember ? `${general} ${told}` : general;
    return { text, audience, log: true, code, context };
  }
  return { text: error.message, audience, log: false, code, context };
}

/**
 * Discord's deadline for an interaction's first answer: 3 s after it was sent, then "This interaction failed" and
 * 10062 for every later call. Handlers answer at once what they know without I/O and defer before their
 * first database or network call; the router (interactions.ts) arms this guard for every interaction all the
 * same, so that a handler that waits on something first (a database under a lock, a slow download) is
 * answered in time whatever it does: if it has not begun its first answer within {@link FIRST_ANSWER_BUDGET_MS},
 * the guard defers as its route says (privately, publicly, or as an update of the button's message), and the
 * handler's later first answer (`reply`, `update`, `deferReply`, `deferUpdate`, autocomplete's `respond`) is
 * turned into what follows a deferral (see {@link answer}). A modal (`showModal`) cannot follow a deferral, so a
 * handler shows it before any I/O.
 */
import {
  type AutocompleteInteraction,
  type Interaction,
  type InteractionReplyOptions,
  MessageFlags,
  MessageFlagsBitField,
  type MessagePayload,
  type RepliableInteraction,
} from 'discord.js';

/** What the 3 s leave once the deferral's own round trip to Discord is allowed for. */
export const FIRST_ANSWER_BUDGET_MS = 1_500;

/** How the guard answers first for a handler that has not: the visibility its final answer will have. */
export type Deferral = 'ephemeral' | 'public' | 'update';

type Answer = string | MessagePayload | InteractionReplyOptions;

/**
 * Arms the guard on `interaction` for the handler about to run; call the result when the handler is done.
 * `onError` is told of a deferral that failed (the interaction then fails as it would have).
 */
export function guardFirstAnswer(
  interaction: Interaction,
  deferral: Deferral,
  onError: (error: unknown) => void,
  budgetMs = FIRST_ANSWER_BUDGET_MS,
): () => void {
  if (interaction.isAutocomplete()) return guardAutocomplete(interaction, onError, budgetMs);
  if (!interaction.isRepliable()) return () => {};
  const own = {
    reply: interaction.reply.bind(interaction),
    deferReply: interaction.deferReply.bind(interaction),
    update: interaction.isMessageComponent() ? interaction.update.bind(interaction) : undefined,
    deferUpdate: interaction.isMessageComponent() ? interaction.deferUpdate.bind(interaction) : undefined,
  };
  let begun = false;
  let deferred: Promise<unknown> | undefined;
  const timer = setTimeout(() => {
    if (begun || interaction.deferred || interaction.replied) return;
    begun = true;
    deferred = (
      deferral === 'update' && own.deferUpdate
        ? own.deferUpdate()
        : own.deferReply(deferral === 'ephemeral' ? { flags: MessageFlags.Ephemeral } : {})
    ).catch(onError);
  }, budgetMs);
  timer.unref();

  /** The handler's own first answer, or, once the guard deferred, `then` after the deferral. */
  const firstAnswer =
    <A extends unknown[], R>(mine: (...args: A) => Promise<R>, then: (...args: A) => Promise<unknown>) =>
    async (...args: A) => {
      if (!deferred) {
        begun = true;
        return mine(...args);
      }
      await deferred;
      return then(...args);
    };
  // The instance's own methods shadow discord.js's, so that every handler gets the guard, however it answers.
  const i = interaction as unknown as Record<string, unknown>;
  i.reply = firstAnswer(own.reply, (options: Answer) => answer(interaction, options));
  i.deferReply = firstAnswer(own.deferReply, async () => {});
  if (own.update) {
    i.update = firstAnswer(own.update, (options?: Parameters<typeof own.update>[0]) =>
      interaction.editReply(editOf((options ?? {}) as Answer)),
    );
  }
  if (own.deferUpdate) i.deferUpdate = firstAnswer(own.deferUpdate, async () => {});
  return () => clearTimeout(timer);
}

function guardAutocomplete(
  interaction: AutocompleteInteraction,
  onError: (error: unknown) => void,
  budgetMs: number,
): () => void {
  const respond = interaction.respond.bind(interaction);
  let begun = false;
  // Too late for the choices: the member sees none this time, and the next keystroke asks again.
  const timer = setTimeout(() => {
    if (begun) return;
    begun = true;
    respond([]).catch(onError);
  }, budgetMs);
  timer.unref();
  interaction.respond = async (choices) => {
    if (begun) return;
    begun = true;
    return respond(choices);
  };
  return () => clearTimeout(timer);
}

/**
 * The answer to an interaction, whether or not it was deferred: a reply when it was not; after a deferral, the
 * deferred reply edited, or, when the answer is private and the deferral was public, the public "thinking…"
 * deleted and the answer sent to the member alone; after an update's deferral, a new message.
 */
export async function answer(interaction: RepliableInteraction, options: Answer): Promise<unknown> {
  if (!interaction.deferred && !interaction.replied) return interaction.reply(options);
  // Answered already, or deferred as an update of the button's message (which sets no visibility): a new message.
  if (interaction.replied || interaction.ephemeral === null) return interaction.followUp(options);
  if (isEphemeral(options) && !interaction.ephemeral) {
    await interaction.deleteReply().catch(() => {});
    return interaction.followUp(options);
  }
  return interaction.editReply(editOf(options));
}

function isEphemeral(options: Answer): boolean {
  if (typeof options === 'string' || !('flags' in options) || options.flags === undefined) return false;
  return new MessageFlagsBitField(options.flags as number).has(MessageFlags.Ephemeral);
}

/** A reply's options as an edit of the deferred reply (its visibility was set by the deferral). */
function editOf(options: Answer): string | MessagePayload | Omit<InteractionReplyOptions, 'flags'> {
  if (typeof options === 'string' || !('flags' in options)) return options;
  const { flags: _flags, ...rest } = options;
  return rest;
}

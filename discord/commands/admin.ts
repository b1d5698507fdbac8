/**
 * /stylize-admin: limits, presets, cancelling any job, the queue. Discord hides the command from members
 * without Manage Server (default_member_permissions), but a server can override that in its Integrations
 * settings, so the permission the interaction carries is checked again here, before anything else; the core
 * checks `isAdmin` once more. Every answer is ephemeral.
 */
import {
  type AutocompleteInteraction,
  type ChatInputCommandInteraction,
  MessageFlags,
  PermissionFlagsBits,
  SlashCommandBuilder,
  type SlashCommandSubcommandBuilder,
  type SlashCommandSubcommandGroupBuilder,
} from 'discord.js';
import { reportDownloadFault } from '../../chat/download-faults.ts';
import { memberReply } from '../../lib/member-error.ts';
import { LIMIT_RULES, PRESET_NAME } from '../../lib/request-rules.ts';
import {
  type Actor,
  addPreset,
  cancelJob,
  LIMIT_NAMES,
  type LimitName,
  type LimitsPatch,
  type LimitsReport,
  listQueue,
  type QueueEntry,
  removePreset,
  type ServerRef,
  setLimits,
  showLimits,
  UserError,
} from '../../rules/index.ts';
import { checkAttachment, downloadAttachment } from '../attachments.ts';
import { autocompleteOptions } from '../autocomplete.ts';
import { type Context, isAdmin, serverOf } from '../context.ts';
import { errorMessage, safeError } from '../errors.ts';
import { clipLines, type MessageSpec, timestamp, toInteractionReply } from '../message-spec.ts';
import { guildOnly, slashCommand } from './command.ts';

// ------------------------------------------------------------------------------------------- definition

/**
 * `quota set` options, in Discord's words for this server's limits; named as Slack admins type them
 * (LIMIT_RULES), with the values the core accepts.
 */
const LIMIT_OPTIONS: Record<LimitName, string> = {
  serverDailyJobs: 'Paintings per day for the whole server',
  memberDailyJobs: 'Paintings per day for each member',
  memberActiveJobs: 'Paintings each member may have queued or in progress at once',
  maxSize: 'Largest output size (px) members may ask for',
  maxIterations: 'Most iterations members may ask for',
  serverRunningJobs: "This server's paintings painted at once (more wait in the queue)",
  memberRunningJobs: "Each member's paintings painted at once (more wait in the queue)",
};
const limitOptions = () => Object.entries(LIMIT_OPTIONS) as [LimitName, string][];

/** `quota reset limit:` takes a limit's option name, or this for all of them. */
const ALL_LIMITS = 'all';

/** Job ids as shown in the bot's messages. */
const JOB_ID = { minLength: 1, maxLength: 64 } as const;

function quotaGroup(group: SlashCommandSubcommandGroupBuilder) {
  return group
    .setName('quota')
    .setDescription("This server's limits")
    .addSubcommand((sub) => sub.setName('show').setDescription("Show this server's limits and today's usage"))
    .addSubcommand((sub) => {
      sub.setName('set').setDescription("Change this server's limits (options left out stay as they are)");
      for (const [name, description] of limitOptions()) {
        const { key, min, max } = LIMIT_RULES[name];
        sub.addIntegerOption((o) =>
          o.setName(key).setDescription(description).setMinValue(min).setMaxValue(max),
        );
      }
      return sub;
    })
    .addSubcommand((sub) =>
      sub
        .setName('reset')
        .setDescription("Put a limit back to the bot operator's default")
        .addStringOption((o) =>
          o
            .setName('limit')
            .setDescription('The limit, or all of them')
            .setRequired(true)
            .addChoices(
              ...limitOptions().map(([name, description]) => ({
                name: `${LIMIT_RULES[name].key}: ${description}`.slice(0, 100),
                value: LIMIT_RULES[name].key,
              })),
              { name: 'all: every limit', value: ALL_LIMITS },
            ),
        ),
    );
}

function presetGroup(group: SlashCommandSubcommandGroupBuilder) {
  return group
    .setName('preset')
    .setDescription("This server's own preset paintings")
    .addSubcommand((sub) =>
      sub
        .setName('add')
        .setDescription('Add a preset painting for this server')
        .addStringOption((o) =>
          o
            .setName('name')
            .setDescription('Its name in /stylize style:')
            .setRequired(true)
            .setMaxLength(PRESET_NAME.maxLength),
        )
        .addAttachmentOption((o) => o.setName('image').setDescription('The painting').setRequired(true)),
    )
    .addSubcommand((sub) =>
      sub
        .setName('remove')
        .setDescription("Remove one of this server's presets")
        .addStringOption((o) =>
          o
            .setName('name')
            .setDescription("One of this server's own presets (those that come with the bot stay)")
            .setRequired(true)
            .setMaxLength(PRESET_NAME.maxLength)
            .setAutocomplete(true),
        ),
    );
}

function cancelSubcommand(sub: SlashCommandSubcommandBuilder) {
  return sub
    .setName('cancel')
    .setDescription("Cancel any member's job")
    .addStringOption((o) =>
      o
        .setName('job')
        .setDescription('The job id')
        .setRequired(true)
        .setMinLength(JOB_ID.minLength)
        .setMaxLength(JOB_ID.maxLength),
    );
}

const definition = guildOnly(
  new SlashCommandBuilder()
    .setName('stylize-admin')
    .setDescription('Manage the stylize bot on this server')
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild),
)
  .addSubcommandGroup(quotaGroup)
  .addSubcommandGroup(presetGroup)
  .addSubcommand(cancelSubcommand)
  .addSubcommand((sub) => sub.setName('queue').setDescription("Show this server's queued and running jobs"));

// --------------------------------------------------------------------------------------------- messages

export const adminMessages = {
  notAdmin: 'Only members with the **Manage Server** permission can use /stylize-admin.',
  noLimitsGiven: 'Give at least one limit to change.',
  badJobId: 'A job id is a number, as shown in the messages (e.g. 12 or #12).',
} as const;

export function limitsMessage(report: LimitsReport, changed = false): MessageSpec {
  const lines = report.limits.map(
    (l) =>
      `\`${LIMIT_RULES[l.name].key}\` ${LIMIT_OPTIONS[l.name]}: **${l.value}**${l.isDefault ? ' (default)' : ''}`,
  );
  const title = changed ? 'Limits updated. This server now has:' : "This server's limits:";
  const today = `Paintings today: ${report.usedToday}; the daily counts start again ${timestamp(report.dailyResetsAt.getTime())}.`;
  return { content: [title, ...lines, today].join('\n') };
}

export function queueMessage(entries: QueueEntry[]): MessageSpec {
  if (entries.length === 0) return { content: 'Nothing is queued or running on this server.' };
  const lines = entries.map((e) =>
    e.status === 'running'
      ? `#${e.jobId} · <@${e.requesterId}> · painting, iteration ${e.iteration}/${e.iterations}`
      : `#${e.jobId} · <@${e.requesterId}> · waiting${e.position === null ? '' : `, position ${e.position}`}`,
  );
  return { content: clipLines(['Queue on this server:', ...lines]) };
}

// --------------------------------------------------------------------------------------------- handlers

async function execute(ctx: Context, interaction: ChatInputCommandInteraction): Promise<void> {
  if (!isAdmin(interaction)) {
    await interaction.reply({ content: adminMessages.notAdmin, flags: MessageFlags.Ephemeral });
    return;
  }
  const group = interaction.options.getSubcommandGroup(false);
  const sub = interaction.options.getSubcommand(true);
  if (group === 'preset' && sub === 'add') {
    const problem = checkAttachment(interaction.options.getAttachment('image', true), ctx.config.download);
    if (problem) {
      await interaction.reply({ content: problem.message, flags: MessageFlags.Ephemeral });
      return;
    }
  }

  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const server = serverOf(interaction.guildId!);
  const actor: Actor = { userId: interaction.user.id, isAdmin: true };
  const command = `${group ?? ''} ${sub}`.trim();
  try {
    const run = SUBCOMMANDS[command];
    if (!run) throw new UserError('invalid-input', `Unknown command /stylize-admin ${command}.`);
    await interaction.editReply(toInteractionReply(await run({ ctx, interaction, server, actor })));
  } catch (error) {
    if (!reportDownloadFault(ctx.log, 'discord', error, { server: server.id }) && memberReply(error).log) {
      ctx.log.error({ err: safeError(error), server: server.id }, 'discord: /stylize-admin failed');
    }
    await interaction.editReply(errorMessage(error));
  }
}

/** What a subcommand works with: the admin is checked already, the reply deferred. */
interface Invocation {
  ctx: Context;
  interaction: ChatInputCommandInteraction;
  server: ServerRef;
  actor: Actor;
}

/** Each subcommand ("group name", or its name alone) and its answer. */
const SUBCOMMANDS: Record<string, (invocation: Invocation) => Promise<MessageSpec>> = {
  'quota show': async ({ ctx, server, actor }) => limitsMessage(await showLimits(ctx.core, server, actor)),
  'quota set': setQuota,
  'quota reset': resetQuota,
  'preset add': addServerPreset,
  'preset remove': removeServerPreset,
  cancel: cancelAnyJob,
  queue: async ({ ctx, server, actor }) => queueMessage(await listQueue(ctx.core, server, actor)),
};

async function setQuota({ ctx, interaction, server, actor }: Invocation): Promise<MessageSpec> {
  const patch: LimitsPatch = {};
  for (const name of LIMIT_NAMES) {
    const value = interaction.options.getInteger(LIMIT_RULES[name].key);
    if (value !== null) patch[name] = value;
  }
  if (Object.keys(patch).length === 0) throw new UserError('invalid-input', adminMessages.noLimitsGiven);
  return limitsChanged(ctx, server, await setLimits(ctx.core, server, patch, actor));
}

async function resetQuota({ ctx, interaction, server, actor }: Invocation): Promise<MessageSpec> {
  const key = interaction.options.getString('limit', true);
  const names = LIMIT_NAMES.filter((name) => key === ALL_LIMITS || LIMIT_RULES[name].key === key);
  if (names.length === 0) throw new UserError('invalid-input', adminMessages.noLimitsGiven);
  const patch: LimitsPatch = Object.fromEntries(names.map((name) => [name, null]));
  return limitsChanged(ctx, server, await setLimits(ctx.core, server, patch, actor));
}

/** The answer to a change of limits; the server's autocompletion offers the new ones at once. */
function limitsChanged(ctx: Context, server: ServerRef, report: LimitsReport): MessageSpec {
  ctx.choices.delete(server);
  return limitsMessage(report, true);
}

async function addServerPreset({ ctx, interaction, server, actor }: Invocation): Promise<MessageSpec> {
  const name = interaction.options.getString('name', true).trim();
  const image = interaction.options.getAttachment('image', true);
  const bytes = await downloadAttachment(image.url, ctx.config.download);
  await addPreset(ctx.core, server, name, bytes, actor);
  ctx.choices.delete(server);
  return { content: `Preset \`${name}\` saved: members can use it with \`/stylize style:${name}\`.` };
}

async function removeServerPreset({ ctx, interaction, server, actor }: Invocation): Promise<MessageSpec> {
  const name = interaction.options.getString('name', true).trim();
  await removePreset(ctx.core, server, name, actor);
  ctx.choices.delete(server);
  return { content: `Preset \`${name}\` removed.` };
}

async function cancelAnyJob({ ctx, interaction, server, actor }: Invocation): Promise<MessageSpec> {
  const match = /^#?(\d{1,15})$/.exec(interaction.options.getString('job', true).trim());
  if (!match) throw new UserError('invalid-input', adminMessages.badJobId);
  const jobId = Number(match[1]);
  const result = await cancelJob(ctx.core, server, jobId, actor);
  return {
    content:
      result === 'cancelled'
        ? `Painting #${jobId} is cancelled.`
        : `Painting #${jobId} is stopping; its thread will say when it has.`,
  };
}

/** Only admins are offered the server's presets to remove. */
async function autocomplete(ctx: Context, interaction: AutocompleteInteraction): Promise<void> {
  if (isAdmin(interaction)) await autocompleteOptions(ctx, interaction);
  else await interaction.respond([]);
}

export const adminCommand = slashCommand({ data: definition, deferral: 'ephemeral', execute, autocomplete });

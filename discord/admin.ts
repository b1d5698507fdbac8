/**
 * /stylize-admin: limits, presets, cancelling any job, the queue. Discord hides the command from members
 * without Manage Server (default_member_permissions), but a server can override that in its Integrations
 * settings, so the permission the interaction carries is checked again here, before anything else; the core
 * checks `isAdmin` once more. Every answer is ephemeral.
 */
import { type ChatInputCommandInteraction, MessageFlags, PermissionFlagsBits } from 'discord.js';
import { reportDownloadFault } from '../chat/download-faults.ts';
import { memberReply } from '../lib/member-error.ts';
import { LIMIT_RULES } from '../lib/request-rules.ts';
import {
  type Actor,
  addPreset,
  cancelJob,
  LIMIT_NAMES,
  type LimitsPatch,
  type LimitsReport,
  listQueue,
  removePreset,
  type ServerRef,
  setLimits,
  showLimits,
  UserError,
} from '../rules/index.ts';
import { checkAttachment, downloadAttachment } from './attachments.ts';
import { ALL_LIMITS } from './commands/definitions.ts';
import { type Context, serverOf } from './context.ts';
import { safeError } from './errors.ts';
import * as render from './render.ts';

export const isAdmin = (interaction: { memberPermissions: { has(bit: bigint): boolean } | null }) =>
  interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false;

export async function handleAdmin(ctx: Context, interaction: ChatInputCommandInteraction): Promise<void> {
  if (!isAdmin(interaction)) {
    await interaction.reply({ content: render.messages.notAdmin, flags: MessageFlags.Ephemeral });
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
  try {
    const spec = await run(ctx, interaction, `${group ?? ''} ${sub}`.trim(), server, actor);
    await interaction.editReply(render.toInteractionReply(spec));
  } catch (error) {
    if (!reportDownloadFault(ctx.log, 'discord', error, { server: server.id }) && memberReply(error).log) {
      ctx.log.error({ err: safeError(error), server: server.id }, 'discord: /stylize-admin failed');
    }
    await interaction.editReply(render.errorMessage(error));
  }
}

async function run(
  ctx: Context,
  interaction: ChatInputCommandInteraction,
  command: string,
  server: ServerRef,
  actor: Actor,
): Promise<render.MessageSpec> {
  const { core } = ctx;
  const options = interaction.options;
  switch (command) {
    case 'quota show':
      return render.limitsMessage(await showLimits(core, server, actor));
    case 'quota set': {
      const patch: LimitsPatch = {};
      for (const name of LIMIT_NAMES) {
        const value = options.getInteger(LIMIT_RULES[name].key);
        if (value !== null) patch[name] = value;
      }
      if (Object.keys(patch).length === 0)
        throw new UserError('invalid-input', render.messages.noLimitsGiven);
      return limitsChanged(ctx, server, await setLimits(core, server, patch, actor));
    }
    case 'quota reset': {
      const key = options.getString('limit', true);
      const names = LIMIT_NAMES.filter((name) => key === ALL_LIMITS || LIMIT_RULES[name].key === key);
      if (names.length === 0) throw new UserError('invalid-input', render.messages.noLimitsGiven);
      const patch: LimitsPatch = Object.fromEntries(names.map((name) => [name, null]));
      return limitsChanged(ctx, server, await setLimits(core, server, patch, actor));
    }
    case 'preset add': {
      const name = options.getString('name', true).trim();
      const bytes = await downloadAttachment(options.getAttachment('image', true).url, ctx.config.download);
      await addPreset(core, server, name, bytes, actor);
      ctx.choices.delete(server);
      return { content: `Preset \`${name}\` saved: members can use it with \`/stylize style:${name}\`.` };
    }
    case 'preset remove': {
      const name = options.getString('name', true).trim();
      await removePreset(core, server, name, actor);
      ctx.choices.delete(server);
      return { content: `Preset \`${name}\` removed.` };
    }
    case 'cancel': {
      const match = /^#?(\d{1,15})$/.exec(options.getString('job', true).trim());
      if (!match) throw new UserError('invalid-input', render.messages.badJobId);
      const jobId = Number(match[1]);
      const result = await cancelJob(core, server, jobId, actor);
      return {
        content:
          result === 'cancelled'
            ? `Painting #${jobId} is cancelled.`
            : `Painting #${jobId} is stopping; its thread will say when it has.`,
      };
    }
    case 'queue':
      return render.queueMessage(await listQueue(core, server, actor));
    default:
      throw new UserError('invalid-input', `Unknown command /stylize-admin ${command}.`);
  }
}

/** The answer to a change of limits; the server's autocompletion offers the new ones at once. */
function limitsChanged(ctx: Context, server: ServerRef, report: LimitsReport): render.MessageSpec {
  ctx.choices.delete(server);
  return render.limitsMessage(report, true);
}

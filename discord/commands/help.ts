/**
 * /stylize-help, answered to the member alone: how to ask for a painting (the command, the Apps menu), the
 * options with this server's limits and defaults, the paintings (a link to /stylize-presets, whose sheet shows
 * them), and what the member has left today. The reply is deferred before anything is read.
 */
import { type ChatInputCommandInteraction, MessageFlags, SlashCommandBuilder } from 'discord.js';
import { type APIApplicationCommand, Routes } from 'discord-api-types/v10';
import { memberReply } from '../../lib/member-error.ts';
import { defaultsWithin, STRENGTH } from '../../lib/request-rules.ts';
import { type MemberAllowance, memberAllowance, plural } from '../../rules/index.ts';
import { type Context, serverOf } from '../context.ts';
import { errorMessage, safeError } from '../errors.ts';
import { timestamp } from '../message-spec.ts';
import { guildOnly, slashCommand } from './command.ts';
import { historyCommand } from './history.ts';
import { paintAvatarCommand } from './paint-avatar.ts';
import { presetsCommand } from './presets.ts';
import { stylizeCommand } from './stylize.ts';
import { stylizeThisImageCommand } from './stylize-this-image.ts';

/** A command of its own for the same reason as /stylize-history. */
const definition = guildOnly(
  new SlashCommandBuilder()
    .setName('stylize-help')
    .setDescription("How to ask for a painting, this server's limits, and what you have left today"),
);

/** What the help says, beside the member's allowance. */
export interface HelpFacts {
  allowance: MemberAllowance;
  defaults: { size: number; iterations: number };
  presets: number;
  /** A command as Discord shows a clickable one (`</name:id>`), or as typed when its id is unknown. */
  command(name: string): string;
}

/** The help's text (under Discord's 2000 characters). */
export function helpMessage({ allowance: a, defaults, presets, command }: HelpFacts): string {
  const stylize = command(stylizeCommand.data.name);
  const today =
    a.leftToday > 0
      ? `you can ask for **${plural(a.leftToday, 'more painting')}** today`
      : 'you have had all your paintings for today';
  return [
    '**How to ask for a painting**',
    `• ${stylize} with your photo in \`image\` and a painting in \`style\` (start typing a title or an artist), or your own \`style_image\`.`,
    `• On a message with an image: Apps → **${stylizeThisImageCommand.data.name}**. On a member: Apps → **${paintAvatarCommand.data.name}**.`,
    '• The painting is made in a thread under the reply, with its progress: **Cancel** stops it; under the result, the variations, **Timelapse** and **Delete** (yours, or any for admins).',
    '**Options** (all optional)',
    `• \`size\`: the longer side, up to **${a.maxSize} px** on this server (default ${defaults.size} px)`,
    `• \`iterations\`: up to **${a.maxIterations}** on this server (default ${defaults.iterations}); more is slower and finer`,
    `• \`strength\`: ${STRENGTH.min}-${STRENGTH.max}, how strongly the style is applied (default: what suits the painting)`,
    '• `preserve_colors`: keep your photo’s colours, take only the brushwork',
    `**Paintings**: ${plural(presets, 'preset')}; see them all, pictured, with ${command(presetsCommand.data.name)}.`,
    `**You**: ${today} (${a.usedToday} of your ${a.memberDailyJobs} used; the count starts again ${timestamp(a.resetsAt.getTime())}), ` +
      `${a.active} of ${a.memberActiveJobs} at once queued or in progress. Your paintings: ${command(historyCommand.data.name)}.`,
  ].join('\n');
}

async function execute(ctx: Context, interaction: ChatInputCommandInteraction): Promise<void> {
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const server = serverOf(interaction.guildId!);
  try {
    const [allowance, { presets, limits }, ids] = await Promise.all([
      memberAllowance(ctx.core, server, interaction.user.id, ctx.jobDefaults),
      ctx.choices.get(server),
      commandIds(ctx, interaction.guildId!),
    ]);
    const defaults = defaultsWithin(ctx.jobDefaults, limits);
    const command = (name: string) => (ids.has(name) ? `</${name}:${ids.get(name)}>` : `/${name}`);
    await interaction.editReply({
      content: helpMessage({ allowance, defaults, presets: presets.length, command }),
      allowedMentions: { parse: [] },
    });
  } catch (error) {
    if (memberReply(error).log) {
      ctx.log.error({ err: safeError(error), server: server.id }, 'discord: /stylize-help failed');
    }
    await interaction.editReply(errorMessage(error));
  }
}

/**
 * The ids of the bot's slash commands (registered globally, or to this server during development), for the
 * links; an empty map when Discord cannot be asked (the help then names the commands as typed).
 */
async function commandIds(ctx: Context, guildId: string): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  const routes = [
    Routes.applicationCommands(ctx.config.applicationId),
    Routes.applicationGuildCommands(ctx.config.applicationId, guildId),
  ];
  for (const route of routes) {
    try {
      const commands = (await ctx.rest.get(route)) as APIApplicationCommand[];
      for (const c of commands) if (!ids.has(c.name)) ids.set(c.name, c.id);
    } catch (error) {
      ctx.log.warn({ err: safeError(error) }, 'discord: could not read the commands for the help');
    }
  }
  return ids;
}

export const helpCommand = slashCommand({ data: definition, deferral: 'ephemeral', execute });

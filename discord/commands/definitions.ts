/**
 * The bot's commands (slash commands, and the message and user commands of the Apps menu), as data: what
 * `npm run register` sends to Discord, and what the Discord adapter reads option names and limits from.
 *
 * All the commands are guild-only (contexts: Guild; installable to servers only): jobs, quotas, presets and
 * the queue all belong to one server, and a DM has no server to charge a job to or admins to manage it.
 * Discord hides `/stylize-admin` from members without Manage Guild (`default_member_permissions`), but server
 * admins can override that in Server Settings → Integrations, so the adapter re-checks the permission.
 */
import {
  ApplicationCommandType,
  ApplicationIntegrationType,
  ContextMenuCommandBuilder,
  InteractionContextType,
  PermissionFlagsBits,
  type RESTPostAPIApplicationCommandsJSONBody,
  SlashCommandBuilder,
} from 'discord.js';
import { ITERATIONS, LIMIT_RULES, PRESET_NAME, SIZE, STRENGTH } from '../../lib/request-rules.ts';

export const COMMAND = {
  stylize: 'stylize',
  presets: 'stylize-presets',
  admin: 'stylize-admin',
  history: 'stylize-history',
  help: 'stylize-help',
  /** The message command (Apps → on a message) and the user command (Apps → on a member). */
  stylizeMessage: 'Stylize this image',
  paintAvatar: 'Paint this avatar',
} as const;

/**
 * `/stylize-admin quota set` options, in Discord's words for this server's limits; named as Slack admins type
 * them (LIMIT_RULES), with the values the core accepts.
 */
type LimitName = keyof typeof LIMIT_RULES;

export const LIMIT_OPTIONS: Record<LimitName, string> = {
  serverDailyJobs: 'Paintings per day for the whole server',
  memberDailyJobs: 'Paintings per day for each member',
  memberActiveJobs: 'Paintings each member may have queued or in progress at once',
  maxSize: 'Largest output size (px) members may ask for',
  maxIterations: 'Most iterations members may ask for',
  serverRunningJobs: "This server's paintings painted at once (more wait in the queue)",
  memberRunningJobs: "Each member's paintings painted at once (more wait in the queue)",
};

/** `/stylize-admin quota reset limit:` takes a limit's option name, or this for all of them. */
export const ALL_LIMITS = 'all';

/** Job ids as shown in the bot's messages. */
export const JOB_ID = { minLength: 1, maxLength: 64 } as const;

function guildOnly<T extends SlashCommandBuilder | ContextMenuCommandBuilder>(builder: T): T {
  builder
    .setContexts(InteractionContextType.Guild)
    .setIntegrationTypes(ApplicationIntegrationType.GuildInstall);
  return builder;
}

export const stylizeCommand = guildOnly(
  new SlashCommandBuilder()
    .setName(COMMAND.stylize)
    .setDescription('Paint your photo in the style of a famous painting (or of an image you upload)'),
)
  .addAttachmentOption((o) => o.setName('image').setDescription('The photo to paint').setRequired(true))
  .addStringOption((o) =>
    o
      .setName('style')
      .setDescription('A preset painting (start typing to search); or give a style_image instead')
      .setMaxLength(PRESET_NAME.maxLength)
      .setAutocomplete(true),
  )
  .addAttachmentOption((o) =>
    o.setName('style_image').setDescription('Your own style image, instead of a preset'),
  )
  .addIntegerOption((o) =>
    o
      .setName('strength')
      .setDescription(
        `How strongly to apply the style, ${STRENGTH.min}-${STRENGTH.max} (default: what suits the painting)`,
      )
      .setMinValue(STRENGTH.min)
      .setMaxValue(STRENGTH.max),
  )
  .addIntegerOption((o) =>
    o
      .setName('size')
      .setDescription('Output size in px, the longer side (start typing to see what this server allows)')
      .setMinValue(SIZE.min)
      .setMaxValue(SIZE.max)
      .setAutocomplete(true),
  )
  .addIntegerOption((o) =>
    o
      .setName('iterations')
      .setDescription("Optimisation steps, up to this server's limit: more is slower and finer")
      .setMinValue(ITERATIONS.min)
      .setMaxValue(ITERATIONS.max)
      .setAutocomplete(true),
  )
  .addBooleanOption((o) =>
    o.setName('preserve_colors').setDescription("Keep your photo's colours, take only the brushwork"),
  );

export const presetsCommand = guildOnly(
  new SlashCommandBuilder()
    .setName(COMMAND.presets)
    .setDescription('Show the preset paintings you can use with /stylize'),
);

/**
 * A separate command rather than a subcommand of /stylize: Discord does not let a command have both options
 * and subcommands, and /stylize keeps its options.
 */
export const historyCommand = guildOnly(
  new SlashCommandBuilder()
    .setName(COMMAND.history)
    .setDescription('List your latest paintings on this server, with links to them'),
);

export const adminCommand = guildOnly(
  new SlashCommandBuilder()
    .setName(COMMAND.admin)
    .setDescription('Manage the stylize bot on this server')
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild),
)
  .addSubcommandGroup((group) =>
    group
      .setName('quota')
      .setDescription("This server's limits")
      .addSubcommand((sub) =>
        sub.setName('show').setDescription("Show this server's limits and today's usage"),
      )
      .addSubcommand((sub) => {
        sub.setName('set').setDescription("Change this server's limits (options left out stay as they are)");
        for (const [name, description] of Object.entries(LIMIT_OPTIONS) as [LimitName, string][]) {
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
                ...(Object.entries(LIMIT_OPTIONS) as [LimitName, string][]).map(([name, description]) => ({
                  name: `${LIMIT_RULES[name].key}: ${description}`.slice(0, 100),
                  value: LIMIT_RULES[name].key,
                })),
                { name: 'all: every limit', value: ALL_LIMITS },
              ),
          ),
      ),
  )
  .addSubcommandGroup((group) =>
    group
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
      ),
  )
  .addSubcommand((sub) =>
    sub
      .setName('cancel')
      .setDescription("Cancel any member's job")
      .addStringOption((o) =>
        o
          .setName('job')
          .setDescription('The job id')
          .setRequired(true)
          .setMinLength(JOB_ID.minLength)
          .setMaxLength(JOB_ID.maxLength),
      ),
  )
  .addSubcommand((sub) => sub.setName('queue').setDescription("Show this server's queued and running jobs"));

/** A separate command for the same reason as /stylize-history. */
export const helpCommand = guildOnly(
  new SlashCommandBuilder()
    .setName(COMMAND.help)
    .setDescription("How to ask for a painting, this server's limits, and what you have left today"),
);

/** Apps → "Stylize this image" on a message: paints the message's first image (context menus have no options). */
export const stylizeMessageCommand = guildOnly(
  new ContextMenuCommandBuilder().setName(COMMAND.stylizeMessage).setType(ApplicationCommandType.Message),
);

/** Apps → "Paint this avatar" on a member: paints their avatar. */
export const paintAvatarCommand = guildOnly(
  new ContextMenuCommandBuilder().setName(COMMAND.paintAvatar).setType(ApplicationCommandType.User),
);

/** The JSON bodies registered with Discord. */
export const commandDefinitions: RESTPostAPIApplicationCommandsJSONBody[] = [
  stylizeCommand.toJSON(),
  presetsCommand.toJSON(),
  adminCommand.toJSON(),
  historyCommand.toJSON(),
  helpCommand.toJSON(),
  stylizeMessageCommand.toJSON(),
  paintAvatarCommand.toJSON(),
];

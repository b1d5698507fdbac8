/**
 * The bot's slash commands, as data: what `npm run register` sends to Discord, and what the Discord adapter
 * reads option names and limits from.
 *
 * All three commands are guild-only (contexts: Guild; installable to servers only): jobs, quotas, presets and
 * the queue all belong to one server, and a DM has no server to charge a job to or admins to manage it.
 * Discord hides `/stylize-admin` from members without Manage Guild (`default_member_permissions`), but server
 * admins can override that in Server Settings → Integrations, so the adapter re-checks the permission.
 */
import {
  ApplicationIntegrationType,
  InteractionContextType,
  PermissionFlagsBits,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
  SlashCommandBuilder,
} from 'discord.js';

export const COMMAND = {
  stylize: 'stylize',
  presets: 'stylize-presets',
  admin: 'stylize-admin',
} as const;

/** Output sizes offered by `size` (the longer side, in pixels), and by `/stylize-admin quota set max_size`. */
export const SIZE_CHOICES = [
  { name: 'Small (256 px)', value: 256 },
  { name: 'Medium (384 px)', value: 384 },
  { name: 'Large (512 px)', value: 512 },
] as const;

export const STRENGTH = { min: 0, max: 100 } as const;
export const ITERATIONS = { min: 10, max: 1000 } as const;
/** Preset names as typed in `/stylize style:` and `/stylize-admin preset add name:`. */
export const PRESET_NAME = { minLength: 1, maxLength: 64 } as const;
/** Job ids as shown in the bot's messages. */
export const JOB_ID = { minLength: 1, maxLength: 64 } as const;

function guildOnly(builder: SlashCommandBuilder): SlashCommandBuilder {
  return builder
    .setContexts(InteractionContextType.Guild)
    .setIntegrationTypes(ApplicationIntegrationType.GuildInstall);
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
      .setMinLength(PRESET_NAME.minLength)
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
      .setDescription('Output size (the longer side)')
      .addChoices(...SIZE_CHOICES),
  )
  .addIntegerOption((o) =>
    o
      .setName('iterations')
      .setDescription(`Optimisation steps, ${ITERATIONS.min}-${ITERATIONS.max}: more is slower and finer`)
      .setMinValue(ITERATIONS.min)
      .setMaxValue(ITERATIONS.max),
  )
  .addBooleanOption((o) =>
    o.setName('preserve_colors').setDescription("Keep your photo's colours, take only the brushwork"),
  );

export const presetsCommand = guildOnly(
  new SlashCommandBuilder()
    .setName(COMMAND.presets)
    .setDescription('Show the preset paintings you can use with /stylize'),
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
      .addSubcommand((sub) =>
        sub
          .setName('set')
          .setDescription("Change this server's limits (options left out stay as they are)")
          .addIntegerOption((o) =>
            o.setName('server_daily').setDescription('Jobs per day for the whole server').setMinValue(0),
          )
          .addIntegerOption((o) =>
            o.setName('member_daily').setDescription('Jobs per day for each member').setMinValue(0),
          )
          .addIntegerOption((o) =>
            o
              .setName('member_concurrent')
              .setDescription('Jobs each member may have queued or running at once')
              .setMinValue(0),
          )
          .addIntegerOption((o) =>
            o
              .setName('max_size')
              .setDescription('Largest output size members may ask for')
              .addChoices(...SIZE_CHOICES),
          )
          .addIntegerOption((o) =>
            o
              .setName('max_iterations')
              .setDescription('Most iterations members may ask for')
              .setMinValue(ITERATIONS.min)
              .setMaxValue(ITERATIONS.max),
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
              .setMinLength(PRESET_NAME.minLength)
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
              .setDescription('The preset to remove')
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

/** The JSON bodies registered with Discord. */
export const commandDefinitions: RESTPostAPIChatInputApplicationCommandsJSONBody[] = [
  stylizeCommand.toJSON(),
  presetsCommand.toJSON(),
  adminCommand.toJSON(),
];

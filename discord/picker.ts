/**
 * The Apps menu's "Stylize this image" (on a message: its first image) and "Paint this avatar" (on a member: their
 * avatar at the CDN's largest size). Each answers the member alone with a picker: the image, and select menus for
 * the painting, the size, the strength and the colours (as /stylize's options; the iterations are the server's
 * default), and a Paint button. Paint goes the way /stylize goes (stylize.ts: the same checks, acceptance, quotas,
 * limits and thread).
 *
 * The picker keeps no state in the bot: every component's custom id carries the member's choices so far, and the
 * image's URL is the picker's embed, so a press works after a restart and on any shard. A choice re-renders the
 * picker (deferUpdate, then the edit); the image's own checks (an image type, its size, Discord's CDN) are made
 * when the command is used, before anything is shown, and its size in pixels rides in the custom ids for the
 * shape check.
 */

import {
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  type APISelectMenuOption,
  type ButtonInteraction,
  ButtonStyle,
  ComponentType,
  type MessageContextMenuCommandInteraction,
  MessageFlags,
  type StringSelectMenuInteraction,
  type UserContextMenuCommandInteraction,
} from 'discord.js';
import { checkImageType } from '../chat/file-type.ts';
import { matchPresets } from '../chat/preset-choices.ts';
import { IMAGE_FORMAT_NAMES } from '../lib/images/index.ts';
import { defaultsWithin, type RequestLimits, STRENGTH } from '../lib/request-rules.ts';
import type { PresetInfo } from '../rules/index.ts';
import { checkAttachment, isAllowedUrl } from './attachments.ts';
import { type Context, serverOf } from './context.ts';
import * as render from './render.ts';
import { type ImageSource, stylize } from './stylize.ts';

/** The member's choices so far, and the image's size in pixels (0 where Discord did not tell it). */
export interface PickerState {
  /** A preset's name; '' until one is chosen. */
  style: string;
  /** Null: the server's default. */
  size: number | null;
  /** Null: what suits the painting. */
  strength: number | null;
  preserveColors: boolean;
  width: number;
  height: number;
}

type Field = 'style' | 'size' | 'strength' | 'colours' | 'go';

const PREFIX = 'stylize:pick';
/** Discord shows at most 25 options in a select menu. */
const MAX_OPTIONS = 25;
const STRENGTHS = [
  { value: 25, words: 'a light touch' },
  { value: STRENGTH.default, words: 'balanced' },
  { value: 75, words: 'strong' },
  { value: STRENGTH.max, words: 'the strongest' },
] as const;

/** `stylize:pick:<field>:<style>:<size>:<strength>:<colours>:<width>x<height>` (under Discord's 100 characters). */
export function pickerId(field: Field, s: PickerState): string {
  return [
    PREFIX,
    field,
    s.style,
    s.size ?? '',
    s.strength ?? '',
    s.preserveColors ? 1 : 0,
    `${s.width}x${s.height}`,
  ].join(':');
}

export function parsePickerId(customId: string): { field: Field; state: PickerState } | undefined {
  const match =
    /^stylize:pick:(style|size|strength|colours|go):([a-z0-9_-]{0,40}):(\d{0,5}):(\d{0,3}):([01]):(\d{1,6})x(\d{1,6})$/.exec(
      customId,
    );
  if (!match) return undefined;
  const [, field, style, size, strength, colours, width, height] = match;
  return {
    field: field as Field,
    state: {
      style: style!,
      size: size ? Number(size) : null,
      strength: strength ? Number(strength) : null,
      preserveColors: colours === '1',
      width: Number(width),
      height: Number(height),
    },
  };
}

// ------------------------------------------------------------------------------------------- messages

export const pickerMessages = {
  noImage: `That message has no image I can paint (${IMAGE_FORMAT_NAMES}). Use this on a message with an image attached, or /stylize with your photo.`,
  noAvatar:
    'That member has no avatar of their own (Discord’s default one is not a picture to paint). Try another member, or /stylize with a photo.',
  noPresets:
    'This server has no preset paintings to choose from. Use /stylize with your photo and your own `style_image`.',
  choosePainting: 'Choose a painting first, then press **Paint**.',
  expired: 'This picker has lost its image; use the command on the message or member again.',
} as const;

/** What the picker says above its menus. */
function pickerText(subject: string, state: PickerState, more: boolean): string {
  const next = state.style ? 'then press **Paint**' : 'choose a painting, then press **Paint**';
  const others = more ? ' (the first 25 paintings are listed; /stylize finds any of them by name)' : '';
  return `Paint ${subject}: ${next}. The size, strength and colours are optional${others}.`;
}

const option = (label: string, value: string, chosen: boolean): APISelectMenuOption => ({
  label: label.slice(0, 100),
  value,
  default: chosen,
});

function select(
  field: Field,
  state: PickerState,
  placeholder: string,
  options: APISelectMenuOption[],
): APIActionRowComponent<APIComponentInMessageActionRow> {
  return {
    type: ComponentType.ActionRow,
    components: [
      {
        type: ComponentType.StringSelect,
        custom_id: pickerId(field, state),
        placeholder,
        options: options.slice(0, MAX_OPTIONS),
      },
    ],
  };
}

/**
 * The picker's components for `state`: the paintings (the first 25 the search ranks), the sizes the server
 * allows (its default marked), the strengths, the colours, and Paint (enabled once a painting is chosen).
 */
export function pickerComponents(
  state: PickerState,
  presets: readonly PresetInfo[],
  limits: RequestLimits,
  defaultSize: number,
): APIActionRowComponent<APIComponentInMessageActionRow>[] {
  const size = state.size ?? defaultSize;
  return [
    select(
      'style',
      state,
      'Choose a painting',
      matchPresets(presets, '', MAX_OPTIONS).map((p) => option(p.label, p.name, p.name === state.style)),
    ),
    select(
      'size',
      state,
      'Size',
      render
        .sizeChoices(limits, defaultSize, '')
        .map((c) => option(c.name, String(c.value), c.value === size)),
    ),
    select('strength', state, 'Strength', [
      option('Strength: what suits the painting (the default)', 'auto', state.strength === null),
      ...STRENGTHS.map((s) =>
        option(`Strength ${s.value}: ${s.words}`, String(s.value), s.value === state.strength),
      ),
    ]),
    select('colours', state, 'Colours', [
      option('The painting’s colours', '0', !state.preserveColors),
      option('Keep the colours of the image', '1', state.preserveColors),
    ]),
    {
      type: ComponentType.ActionRow,
      components: [
        {
          type: ComponentType.Button,
          style: ButtonStyle.Primary,
          label: 'Paint',
          custom_id: pickerId('go', state),
          disabled: !state.style,
        },
      ],
    },
  ];
}

// ------------------------------------------------------------------------------------------- handlers

/** Apps → "Stylize this image": the message's first image, refused at once when it has none we can paint. */
export async function handleStylizeMessage(
  ctx: Context,
  interaction: MessageContextMenuCommandInteraction,
): Promise<void> {
  const attachments = [...interaction.targetMessage.attachments.values()];
  const image = attachments.find((a) => !checkImageType(a.contentType, a.name));
  const refusal = image
    ? checkAttachment(image, ctx.config.download)?.message
    : attachments[0]
      ? (checkImageType(attachments[0].contentType, attachments[0].name)?.message ?? pickerMessages.noImage)
      : pickerMessages.noImage;
  if (!image || refusal) {
    await interaction.reply({ content: refusal ?? pickerMessages.noImage, flags: MessageFlags.Ephemeral });
    return;
  }
  const { width, height } = image;
  await showPicker(ctx, interaction, 'this image', { url: image.url, width, height });
}

/** Apps → "Paint this avatar": the member's own avatar, as a PNG at the CDN's largest size. */
export async function handlePaintAvatar(
  ctx: Context,
  interaction: UserContextMenuCommandInteraction,
): Promise<void> {
  const target = interaction.targetUser;
  const url = target.avatar
    ? target.displayAvatarURL({ extension: 'png', size: 4096, forceStatic: true })
    : undefined;
  if (!url || !isAllowedUrl(url, ctx.config.download)) {
    await interaction.reply({ content: pickerMessages.noAvatar, flags: MessageFlags.Ephemeral });
    return;
  }
  const subject = target.id === interaction.user.id ? 'your avatar' : `<@${target.id}>’s avatar`;
  await showPicker(ctx, interaction, subject, { url, width: null, height: null });
}

async function showPicker(
  ctx: Context,
  interaction: MessageContextMenuCommandInteraction | UserContextMenuCommandInteraction,
  subject: string,
  image: ImageSource,
): Promise<void> {
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const { presets, limits } = await ctx.choices.get(serverOf(interaction.guildId!));
  if (presets.length === 0) {
    await interaction.editReply(pickerMessages.noPresets);
    return;
  }
  const state: PickerState = {
    style: '',
    size: null,
    strength: null,
    preserveColors: false,
    width: image.width ?? 0,
    height: image.height ?? 0,
  };
  await interaction.editReply({
    content: pickerText(subject, state, presets.length > MAX_OPTIONS),
    embeds: [{ image: { url: image.url } }],
    components: pickerComponents(state, presets, limits, defaultsWithin(ctx.jobDefaults, limits).size),
    allowedMentions: { parse: [] },
  });
}

/** A choice in one of the picker's menus: the picker shown again with it. */
export async function handlePickerSelect(
  ctx: Context,
  interaction: StringSelectMenuInteraction,
): Promise<void> {
  const parsed = parsePickerId(interaction.customId);
  if (!parsed || parsed.field === 'go') return;
  await interaction.deferUpdate();
  const state = chosen(parsed.state, parsed.field, interaction.values[0] ?? '');
  const { presets, limits } = await ctx.choices.get(serverOf(interaction.guildId!));
  const subject = /^Paint (.+?): /.exec(interaction.message.content)?.[1] ?? 'this image';
  await interaction.editReply({
    content: pickerText(subject, state, presets.length > MAX_OPTIONS),
    components: pickerComponents(state, presets, limits, defaultsWithin(ctx.jobDefaults, limits).size),
    allowedMentions: { parse: [] },
  });
}

function chosen(state: PickerState, field: Exclude<Field, 'go'>, value: string): PickerState {
  switch (field) {
    case 'style':
      return { ...state, style: /^[a-z0-9_-]{1,40}$/.test(value) ? value : '' };
    case 'size':
      return { ...state, size: /^\d{1,5}$/.test(value) ? Number(value) : null };
    case 'strength':
      return { ...state, strength: /^\d{1,3}$/.test(value) ? Number(value) : null };
    case 'colours':
      return { ...state, preserveColors: value === '1' };
  }
}

/** Paint: the picker's image and choices, through /stylize's own path. */
export async function handlePickerPaint(ctx: Context, interaction: ButtonInteraction): Promise<void> {
  const parsed = parsePickerId(interaction.customId);
  if (parsed?.field !== 'go') return;
  const { state } = parsed;
  const url = interaction.message.embeds[0]?.image?.url;
  const refusal = !url ? pickerMessages.expired : !state.style ? pickerMessages.choosePainting : undefined;
  if (refusal || !url) {
    await interaction.reply({ content: refusal ?? pickerMessages.expired, flags: MessageFlags.Ephemeral });
    return;
  }
  await stylize(ctx, interaction, {
    image: { url, width: state.width || null, height: state.height || null },
    typedStyle: state.style,
    styleImage: null,
    options: {
      size: state.size ?? undefined,
      strength: state.strength ?? undefined,
      preserveColors: state.preserveColors || undefined,
    },
  });
}

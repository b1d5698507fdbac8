/**
 * The picker that the Apps menu's commands (commands/stylize-this-image.ts, commands/paint-avatar.ts) show the
 * member alone: the image, and select menus for the painting, the size, the strength and the colours (as
 * /stylize's options; the iterations are the server's default), and a Paint button. Paint goes the way /stylize
 * goes (stylize-request.ts: the same checks, acceptance, quotas, limits and thread).
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
import { matchPresets } from '../../chat/preset-choices.ts';
import { defaultsWithin, type RequestLimits, STRENGTH } from '../../lib/request-rules.ts';
import type { PresetInfo } from '../../rules/index.ts';
import { sizeChoices } from '../autocomplete.ts';
import { type Context, serverOf } from '../context.ts';
import { type ImageSource, stylize } from '../stylize-request.ts';
import { button, stringSelect } from './component.ts';

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

/** What a picker component's custom id carries: which one it is, and the choices so far. */
interface PickerId {
  field: Field;
  state: PickerState;
}

export function parsePickerId(customId: string): PickerId | undefined {
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
      sizeChoices(limits, defaultSize, '').map((c) => option(c.name, String(c.value), c.value === size)),
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

/** Shows the picker for `image`, to the member alone; `subject` is what it paints ("your avatar"). */
export async function showPicker(
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
async function choose(
  ctx: Context,
  interaction: StringSelectMenuInteraction,
  parsed: PickerId,
): Promise<void> {
  if (parsed.field === 'go') return;
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
async function paint(ctx: Context, interaction: ButtonInteraction, parsed: PickerId): Promise<void> {
  if (parsed.field !== 'go') return;
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

/** A choice in a menu re-renders the picker: the guard defers it as an update of the picker's message. */
export const pickerSelect = stringSelect({ parse: parsePickerId, deferral: 'update', execute: choose });

/** Paint starts the painting in public, as /stylize does. */
export const pickerPaintButton = button({ parse: parsePickerId, deferral: 'public', execute: paint });

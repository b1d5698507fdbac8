import type { ViewOutput } from '@slack/bolt';
import { matchPresets } from '../chat/preset-choices.ts';
import { IMAGE_EXTENSIONS, IMAGE_FORMAT_NAMES } from '../lib/images/index.ts';
import { ITERATIONS, SIZE, STRENGTH } from '../lib/request-rules.ts';
import type { PresetInfo } from '../rules/index.ts';
import { escapeText } from './render.ts';
import type { KnownBlock, ModalView, PlainTextOption } from './slack-types.ts';

/**
 * The modals, as pure functions: the /stylize form (also opened, pre-filled, by the "Stylize this image" message
 * shortcut) and the parsing of its submission, one-message modals for "working on it" and outcomes, and the
 * pieces the admin's preset form (listeners/preset-form.ts) is built of. Slack returns a submitted form's
 * values by block and action id.
 */
export const STYLIZE_MODAL = 'stylize_modal';

/** Block ids of the /stylize form; each input block's element has the action id `value`. */
export const FIELD = {
  content: 'content',
  preset: 'preset',
  style: 'style',
  strength: 'strength',
  size: 'size',
  iterations: 'iterations',
  options: 'options',
} as const;
export const VALUE = 'value';

/** What file_input accepts: the formats lib/images decodes. */
export const IMAGE_FILETYPES = IMAGE_EXTENSIONS;
/** Slack's cap on the options of a select, and on an option's text. */
export const MAX_SELECT_OPTIONS = 100;
export const MAX_OPTION_TEXT = 75;
const PRESERVE = 'preserve_colors';

/** What the /stylize form carries through Slack (private_metadata, at most 3000 characters). */
export interface StylizeMetadata {
  /** Where the command or shortcut was used: the job's messages go there. */
  channelId: string;
  /** The photo from the message of the shortcut (file_input cannot be pre-filled). */
  file?: { id: string; name: string };
}

export function writeStylizeMetadata(meta: StylizeMetadata): string {
  return JSON.stringify(
    meta.file ? { c: meta.channelId, f: meta.file.id, n: meta.file.name } : { c: meta.channelId },
  );
}

export function readStylizeMetadata(text: string): StylizeMetadata | undefined {
  try {
    const raw = JSON.parse(text) as { c?: unknown; f?: unknown; n?: unknown };
    if (typeof raw.c !== 'string' || raw.c === '') return undefined;
    if (typeof raw.f === 'string' && raw.f !== '') {
      return { channelId: raw.c, file: { id: raw.f, name: typeof raw.n === 'string' ? raw.n : 'image' } };
    }
    return { channelId: raw.c };
  } catch {
    return undefined;
  }
}

export const plain = (text: string) => ({ type: 'plain_text' as const, text, emoji: true });
export const option = (text: string, value: string): PlainTextOption => ({
  text: plain(text.length > MAX_OPTION_TEXT ? `${text.slice(0, MAX_OPTION_TEXT - 1)}…` : text),
  value,
});

export function fileInput(optional: boolean, blockId: string, label: string, hint?: string): KnownBlock {
  return {
    type: 'input',
    block_id: blockId,
    optional,
    label: plain(label),
    ...(hint ? { hint: plain(hint) } : {}),
    element: { type: 'file_input', action_id: VALUE, filetypes: [...IMAGE_FILETYPES], max_files: 1 },
  };
}

/** What the /stylize form offers: what the workspace's limits allow, with the defaults inside them. */
export interface StylizeFormChoices {
  channelId: string;
  /** Whether there are presets to choose from (they are searched as the member types: see presetOptions). */
  hasPresets: boolean;
  /** Sizes offered (px, smallest first), and the one preselected. */
  sizes: readonly number[];
  size: number;
  /** The most iterations allowed, and the default. */
  maxIterations: number;
  iterations: number;
  prefill?: { fileId: string; fileName: string };
}

/**
 * The /stylize form; with `prefill`, the photo comes from a message and uploading one is optional. The painting
 * is an external select: Slack asks for its options as the member types (any number of presets fit), and the
 * size and iterations offered are those the workspace allows.
 */
export function stylizeModal(input: StylizeFormChoices): ModalView {
  const { prefill } = input;
  return {
    type: 'modal',
    callback_id: STYLIZE_MODAL,
    title: plain('Stylize'),
    submit: plain('Paint'),
    close: plain('Cancel'),
    private_metadata: writeStylizeMetadata({
      channelId: input.channelId,
      ...(prefill ? { file: { id: prefill.fileId, name: prefill.fileName } } : {}),
    }),
    blocks: [...photoBlocks(prefill), ...styleBlocks(input.hasPresets), ...optionBlocks(input)],
  };
}

/** The photo: uploaded, or the message's (named, and then another may be uploaded instead). */
function photoBlocks(prefill: StylizeFormChoices['prefill']): KnownBlock[] {
  const upload = fileInput(
    prefill !== undefined,
    FIELD.content,
    prefill ? 'Or upload another photo' : 'Photo to paint',
    IMAGE_FORMAT_NAMES,
  );
  if (!prefill) return [upload];
  const text = `:frame_with_picture: Photo: *${escapeText(prefill.fileName)}* (from the message)`;
  return [{ type: 'context', elements: [{ type: 'mrkdwn', text }] }, upload];
}

/** The painting (searched as the member types), when there are presets, and the member's own style image. */
function styleBlocks(hasPresets: boolean): KnownBlock[] {
  const ownStyle = fileInput(
    true,
    FIELD.style,
    hasPresets ? 'Or your own style image' : 'Style image',
    hasPresets ? 'Instead of a preset, or with one: they are blended.' : undefined,
  );
  if (!hasPresets) return [ownStyle];
  const painting: KnownBlock = {
    type: 'input',
    block_id: FIELD.preset,
    optional: true,
    label: plain('Painting'),
    element: {
      type: 'external_select',
      action_id: VALUE,
      placeholder: plain('Search by painting, artist or name'),
      min_query_length: 0,
    },
  };
  return [painting, ownStyle];
}

/** Strength, size, iterations and keeping the photo's colours, within what the workspace allows. */
function optionBlocks(input: StylizeFormChoices): KnownBlock[] {
  const whole = (min: number, max: number, initial?: number) => ({
    type: 'number_input' as const,
    action_id: VALUE,
    is_decimal_allowed: false,
    min_value: String(min),
    max_value: String(max),
    ...(initial !== undefined ? { initial_value: String(initial) } : {}),
  });
  return [
    {
      type: 'input',
      block_id: FIELD.strength,
      optional: true,
      label: plain(`Strength (${STRENGTH.min}-${STRENGTH.max})`),
      hint: plain(
        `How strongly the style is applied; left empty, what suits the painting (${STRENGTH.default} for your own).`,
      ),
      element: whole(STRENGTH.min, STRENGTH.max),
    },
    {
      type: 'input',
      block_id: FIELD.size,
      label: plain('Size'),
      element: {
        type: 'static_select',
        action_id: VALUE,
        options: input.sizes.map((s) => option(`${s} px`, String(s))),
        initial_option: option(`${input.size} px`, String(input.size)),
      },
    },
    {
      type: 'input',
      block_id: FIELD.iterations,
      optional: true,
      label: plain('Iterations'),
      hint: plain(`More is slower and finer; this workspace allows up to ${input.maxIterations}.`),
      element: whole(ITERATIONS.min, input.maxIterations, input.iterations),
    },
    {
      type: 'input',
      block_id: FIELD.options,
      optional: true,
      label: plain('Options'),
      element: {
        type: 'checkboxes',
        action_id: VALUE,
        options: [option('Keep my photo’s colours', PRESERVE)],
      },
    },
  ];
}

/** The painting select's options for what the member typed (see matchPresets), as many as Slack shows. */
export function presetOptions(presets: readonly PresetInfo[], typed: string): PlainTextOption[] {
  return matchPresets(presets, typed, MAX_SELECT_OPTIONS).map((p) => option(p.label, p.name));
}

export type StateValues = ViewOutput['state']['values'];

/** What the member chose; files are Slack file ids, fetched later. Left out: undefined (the defaults apply). */
export interface StylizeChoice {
  contentFileId: string;
  preset: string | undefined;
  styleFileId: string | undefined;
  /** Undefined: the painting's recommended strength. */
  strength: number | undefined;
  size: number | undefined;
  iterations: number | undefined;
  preserveColors: boolean;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: Record<string, string> };

/** The id of the file uploaded in a form's file input. */
export const fileId = (values: StateValues, block: string) => values[block]?.[VALUE]?.files?.[0]?.id;

/**
 * Checks a submitted /stylize form on its own (the workspace's limits are the core's to check: checkRequest);
 * `errors` (by block id) go back to the form with response_action 'errors'.
 */
export function parseStylizeSubmission(
  view: Pick<ViewOutput, 'state' | 'blocks'>,
  meta: StylizeMetadata,
): Parsed<StylizeChoice> {
  const values = view.state.values;
  const offeredPresets = view.blocks.some((b) => b.block_id === FIELD.preset);
  const errors: Record<string, string> = {};
  const contentFileId = fileId(values, FIELD.content) ?? meta.file?.id;
  if (!contentFileId) errors[FIELD.content] = 'Upload the photo to paint.';

  const preset = values[FIELD.preset]?.[VALUE]?.selected_option?.value ?? undefined;
  const styleFileId = fileId(values, FIELD.style);
  if (!preset && !styleFileId) {
    if (offeredPresets) errors[FIELD.preset] = 'Choose a painting, or upload a style image below.';
    else errors[FIELD.style] = 'Upload a style image.';
  }

  const whole = (block: string, min: number, max: number, problem: string): number | undefined => {
    const text = values[block]?.[VALUE]?.value?.trim() || values[block]?.[VALUE]?.selected_option?.value;
    if (!text) return undefined;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) errors[block] = problem;
    return value;
  };
  const strength = whole(
    FIELD.strength,
    STRENGTH.min,
    STRENGTH.max,
    `The strength is a whole number from ${STRENGTH.min} to ${STRENGTH.max}.`,
  );
  const size = whole(FIELD.size, SIZE.min, SIZE.max, 'Choose one of the sizes.');
  const iterations = whole(
    FIELD.iterations,
    ITERATIONS.min,
    ITERATIONS.max,
    'The iterations are a whole number, at least 1.',
  );

  const preserveColors = (values[FIELD.options]?.[VALUE]?.selected_options ?? []).some(
    (o) => o.value === PRESERVE,
  );
  if (Object.keys(errors).length > 0 || !contentFileId) return { ok: false, errors };
  return {
    ok: true,
    value: { contentFileId, preset, styleFileId, strength, size, iterations, preserveColors },
  };
}

/** A modal with one message and a Close button: "working on it", an outcome, a refusal. */
export function messageModal(title: string, text: string): ModalView {
  return {
    type: 'modal',
    title: plain(title.slice(0, 24)),
    close: plain('Close'),
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
  };
}

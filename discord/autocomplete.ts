/**
 * The choices offered while a member types an option: /stylize's `style`, `size` and `iterations`, and
 * `/stylize-admin preset remove name:`, from the server's presets and limits (chat/preset-choices.ts), so that
 * members are offered only what the server allows. The choices themselves are pure; the picker offers the same
 * sizes in its menu.
 */
import type { APIApplicationCommandOptionChoice, AutocompleteInteraction } from 'discord.js';
import { matchPresets } from '../chat/preset-choices.ts';
import {
  defaultsWithin,
  OFFERED_SIZES,
  type RequestLimits,
  SIZE,
  sizesAllowed,
} from '../lib/request-rules.ts';
import { type PresetInfo, plural } from '../rules/index.ts';
import { type Context, serverOf } from './context.ts';

/** Discord shows at most 25 choices. */
const MAX_CHOICES = 25;

/**
 * The choices for the focused option: `style` (the server's presets by title, artist or name), `name` of
 * `preset remove` (only the server's own: the bot's presets cannot be removed), `size` and `iterations`
 * (within the server's limits, the defaults marked).
 */
export async function autocompleteOptions(ctx: Context, interaction: AutocompleteInteraction): Promise<void> {
  const focused = interaction.options.getFocused(true);
  const typed = String(focused.value);
  const { presets, limits } = await ctx.choices.get(serverOf(interaction.guildId!));
  const defaults = defaultsWithin(ctx.jobDefaults, limits);
  switch (focused.name) {
    case 'style':
      return interaction.respond(presetChoices(presets, typed));
    case 'name':
      return interaction.respond(
        presetChoices(
          presets.filter((p) => p.own),
          typed,
        ),
      );
    case 'size':
      return interaction.respond(sizeChoices(limits, defaults.size, typed));
    case 'iterations':
      return interaction.respond(iterationChoices(limits, defaults.iterations, typed));
    default:
      return interaction.respond([]);
  }
}

/** Choices for a preset: matching what was typed by title, artist or name. */
export function presetChoices(
  presets: readonly PresetInfo[],
  typed: string,
): APIApplicationCommandOptionChoice<string>[] {
  return matchPresets(presets, typed, MAX_CHOICES).map((p) => ({
    name: p.label.slice(0, 100),
    value: p.name,
  }));
}

/**
 * Choices for `size`: the number typed when the server allows it, then the offered sizes it allows (see
 * sizesAllowed), the default marked.
 */
export function sizeChoices(
  limits: RequestLimits,
  defaultSize: number,
  typed: string,
): APIApplicationCommandOptionChoice<number>[] {
  const allowed = sizesAllowed(
    OFFERED_SIZES.map((s) => s.px),
    limits.maxSize,
  );
  const wanted = typedWithin(typed, SIZE.min, limits.maxSize);
  const choices =
    wanted === undefined || allowed.includes(wanted) ? [] : [{ name: `${wanted} px`, value: wanted }];
  for (const px of allowed) {
    const offered = OFFERED_SIZES.find((s) => s.px === px);
    const name = offered ? `${offered.label} (${px} px)` : `The largest this server allows (${px} px)`;
    choices.push({ name: px === defaultSize ? `${name}, the default` : name, value: px });
  }
  return choices;
}

/** Choices for `iterations`: the number typed when the server allows it, the default, the most. */
export function iterationChoices(
  limits: RequestLimits,
  defaultIterations: number,
  typed: string,
): APIApplicationCommandOptionChoice<number>[] {
  const choices: APIApplicationCommandOptionChoice<number>[] = [];
  const add = (value: number, note = '') => {
    if (!choices.some((c) => c.value === value))
      choices.push({ name: `${plural(value, 'iteration')}${note}`, value });
  };
  const wanted = typedWithin(typed, 1, limits.maxIterations);
  if (wanted !== undefined) add(wanted);
  add(defaultIterations, ' (the default)');
  add(limits.maxIterations, ' (the most this server allows)');
  return choices;
}

/** The whole number typed, when it lies in [min, max]. */
function typedWithin(typed: string, min: number, max: number): number | undefined {
  const value = Number(typed.trim());
  return typed.trim() !== '' && Number.isInteger(value) && value >= min && value <= max ? value : undefined;
}

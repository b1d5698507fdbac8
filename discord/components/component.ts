/**
 * A message component of the bot (a button or a select menu), as each module of this folder declares it: the
 * custom ids it takes (`parse`: what an id carries; undefined for an id not its own), its deferral for the
 * first-answer guard, and its handler, which gets what the id carried.
 */
import type { ButtonInteraction, Interaction, StringSelectMenuInteraction } from 'discord.js';
import type { Context } from '../context.ts';
import type { Deferral } from '../first-answer.ts';
import type { Route } from '../route.ts';

interface ComponentSpec<I, T> {
  parse(customId: string): T | undefined;
  deferral: Deferral;
  execute(ctx: Context, interaction: I, parsed: T): Promise<void>;
}

export const button = <T>(spec: ComponentSpec<ButtonInteraction, T>) =>
  component((i): i is ButtonInteraction => i.isButton(), spec);

export const stringSelect = <T>(spec: ComponentSpec<StringSelectMenuInteraction, T>) =>
  component((i): i is StringSelectMenuInteraction => i.isStringSelectMenu(), spec);

function component<I extends ButtonInteraction | StringSelectMenuInteraction, T>(
  isKind: (interaction: Interaction) => interaction is I,
  spec: ComponentSpec<I, T>,
): Route {
  return {
    matches: (i) => isKind(i) && spec.parse(i.customId) !== undefined,
    deferral: spec.deferral,
    handle: (ctx, i) => spec.execute(ctx, i as I, spec.parse((i as I).customId)!),
  };
}

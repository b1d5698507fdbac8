import type { Interaction } from 'discord.js';
import type { Context } from './context.ts';
import type { Deferral } from './first-answer.ts';

/**
 * What the router (interactions.ts) needs of a command or a component: which interactions it takes, how the
 * first-answer guard defers for it when its handler has not answered in time (first-answer.ts), and the handler.
 */
export interface Route {
  matches(interaction: Interaction): boolean;
  deferral: Deferral;
  handle(ctx: Context, interaction: Interaction): Promise<void>;
}

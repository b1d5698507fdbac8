/**
 * The bot's commands, for the router (interactions.ts) and for registration (register.ts). A static list rather
 * than a scan of this folder: the compiler checks that each entry is a Command, a command left out or renamed
 * fails the build instead of going missing at run time, and the same list works from the sources (tsx, .ts) and
 * from dist/ (.js) alike.
 */
import type { RESTPostAPIApplicationCommandsJSONBody } from 'discord.js';
import { adminCommand } from './admin.ts';
import type { Command } from './command.ts';
import { helpCommand } from './help.ts';
import { historyCommand } from './history.ts';
import { paintAvatarCommand } from './paint-avatar.ts';
import { presetsCommand } from './presets.ts';
import { stylizeCommand } from './stylize.ts';
import { stylizeThisImageCommand } from './stylize-this-image.ts';

export const COMMANDS: readonly Command[] = [
  stylizeCommand,
  presetsCommand,
  adminCommand,
  historyCommand,
  helpCommand,
  stylizeThisImageCommand,
  paintAvatarCommand,
];

/** The JSON bodies registered with Discord. */
export const commandDefinitions: RESTPostAPIApplicationCommandsJSONBody[] = COMMANDS.map((c) => c.data);

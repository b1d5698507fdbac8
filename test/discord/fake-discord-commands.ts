/**
 * The fake Discord server's application commands: the checks Discord applies when commands are registered
 * (a faithful subset: names, descriptions, option order and nesting, choices, autocomplete, limits), and
 * the `data.options` of interactions built from a registered command, so injected interactions carry the
 * option types Discord would send.
 */
import {
  type APIApplicationCommand,
  type APIApplicationCommandInteractionDataOption,
  type APIApplicationCommandOption,
  type APIAttachment,
  ApplicationCommandOptionType,
  ApplicationCommandType,
} from 'discord-api-types/v10';
import { invalidFormBody } from './fake-discord-http.ts';

// ------------------------------------------------------------------------------------------ validation

const NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
const MAX_OPTIONS = 25;
const MAX_CHOICES = 25;
const MAX_COMMANDS_PER_TYPE = 100;

type Problem = { path: string; code: string; message: string };
type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Throws Discord's 50035 Invalid Form Body when `bodies` (a bulk overwrite, or one command at `prefix`)
 * would be refused by Discord.
 */
export function validateCommands(bodies: unknown, single = false): void {
  const list = single ? [bodies] : bodies;
  const problems: Problem[] = [];
  if (!Array.isArray(list)) {
    throw invalidFormBody([{ path: '_root', code: 'ARRAY_TYPE_CONVERT', message: 'Must be an array.' }]);
  }
  const seen = new Map<string, number>();
  let chatInputCount = 0;
  list.forEach((body, i) => {
    const prefix = single ? '' : `${i}.`;
    if (!isObject(body)) {
      problems.push({ path: `${prefix}_root`, code: 'MODEL_TYPE_CONVERT', message: 'Must be an object.' });
      return;
    }
    const type = (body.type as number | undefined) ?? ApplicationCommandType.ChatInput;
    if (type === ApplicationCommandType.ChatInput) chatInputCount++;
    if (type === ApplicationCommandType.ChatInput) {
      checkName(body.name, `${prefix}name`, true, problems);
    } else {
      checkContextMenu(body, prefix, problems);
    }
    const key = `${type}:${String(body.name)}`;
    if (seen.has(key)) {
      problems.push({
        path: `${prefix}name`,
        code: 'APPLICATION_COMMANDS_DUPLICATE_NAME',
        message: `Application command names must be unique (${String(body.name)}).`,
      });
    }
    seen.set(key, i);
    if (type === ApplicationCommandType.ChatInput) {
      checkDescription(body.description, `${prefix}description`, problems);
    }
    const dmp = body.default_member_permissions;
    if (dmp !== undefined && dmp !== null && !(typeof dmp === 'string' && /^\d+$/.test(dmp))) {
      problems.push({
        path: `${prefix}default_member_permissions`,
        code: 'BASE_TYPE_BAD_STRING',
        message: 'Must be a string of a permission bitfield, or null.',
      });
    }
    if (body.options !== undefined) checkOptions(body.options, `${prefix}options`, 0, problems);
    if (jsonLength(body) > 8000) {
      problems.push({
        path: `${prefix}_root`,
        code: 'APPLICATION_COMMAND_TOO_LARGE',
        message: 'Command exceeds maximum size (8000)',
      });
    }
  });
  if (chatInputCount > MAX_COMMANDS_PER_TYPE) {
    problems.push({
      path: '_root',
      code: 'BASE_TYPE_MAX_LENGTH',
      message: `Must be ${MAX_COMMANDS_PER_TYPE} or fewer in length.`,
    });
  }
  if (problems.length) throw invalidFormBody(problems);
}

function checkName(name: unknown, path: string, lowercase: boolean, problems: Problem[]): void {
  if (typeof name !== 'string' || !NAME.test(name) || (lowercase && name !== name.toLowerCase())) {
    problems.push({
      path,
      code: 'APPLICATION_COMMAND_INVALID_NAME',
      message: `Command name is invalid: ${JSON.stringify(name)}`,
    });
  }
}

/**
 * A message or user command (the Apps menu): a name of 1-32 characters, spaces and capitals allowed, and no
 * description or options.
 */
function checkContextMenu(body: Json, prefix: string, problems: Problem[]): void {
  const { name, description, options } = body;
  if (typeof name !== 'string' || name.trim().length < 1 || [...name].length > 32) {
    problems.push({
      path: `${prefix}name`,
      code: 'APPLICATION_COMMAND_INVALID_NAME',
      message: `Command name is invalid: ${JSON.stringify(name)}`,
    });
  }
  if ((description !== undefined && description !== '') || (Array.isArray(options) && options.length > 0)) {
    problems.push({
      path: `${prefix}description`,
      code: 'APPLICATION_COMMAND_CONTEXT_MENU_HAS_DESCRIPTION',
      message: 'Context menu commands cannot have a description or options.',
    });
  }
}

function checkDescription(description: unknown, path: string, problems: Problem[]): void {
  if (typeof description !== 'string' || description.length < 1 || description.length > 100) {
    problems.push({ path, code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' });
  }
}

const isSub = (type: unknown) =>
  type === ApplicationCommandOptionType.Subcommand || type === ApplicationCommandOptionType.SubcommandGroup;

function checkOptions(options: unknown, path: string, depth: number, problems: Problem[]): void {
  if (!Array.isArray(options)) {
    problems.push({ path, code: 'BASE_TYPE_BAD_ARRAY', message: 'Must be an array.' });
    return;
  }
  if (options.length > MAX_OPTIONS) {
    problems.push({
      path,
      code: 'BASE_TYPE_MAX_LENGTH',
      message: `Must be ${MAX_OPTIONS} or fewer in length.`,
    });
  }
  const names = new Set<string>();
  let sawOptional = false;
  const subs = options.filter((o) => isObject(o) && isSub(o.type)).length;
  if (subs > 0 && subs !== options.length) {
    problems.push({
      path,
      code: 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID',
      message: 'Sub-command and sub-command group option types are mutually exclusive to all other types',
    });
  }
  options.forEach((option, i) => {
    const at = `${path}.${i}`;
    if (!isObject(option)) {
      problems.push({ path: at, code: 'MODEL_TYPE_CONVERT', message: 'Must be an object.' });
      return;
    }
    const type = option.type as number;
    if (typeof type !== 'number' || type < 1 || type > 11) {
      problems.push({
        path: `${at}.type`,
        code: 'BASE_TYPE_CHOICES',
        message: `Value must be one of 1..11.`,
      });
    }
    checkName(option.name, `${at}.name`, true, problems);
    checkDescription(option.description, `${at}.description`, problems);
    if (typeof option.name === 'string') {
      if (names.has(option.name)) {
        problems.push({
          path: `${at}.name`,
          code: 'APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS',
          message: 'Option names must be unique',
        });
      }
      names.add(option.name);
    }
    if (isSub(type)) {
      // Groups only at the top level; sub-commands at the top level or in a group (depth 1).
      const allowed = type === ApplicationCommandOptionType.SubcommandGroup ? depth === 0 : depth <= 1;
      if (!allowed) {
        problems.push({
          path: `${at}.type`,
          code: 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID',
          message: 'Sub-commands nest at most as group → sub-command',
        });
      }
      if (option.options !== undefined) {
        if (type === ApplicationCommandOptionType.SubcommandGroup) {
          const inner = Array.isArray(option.options) ? option.options : [];
          if (inner.some((o) => !isObject(o) || o.type !== ApplicationCommandOptionType.Subcommand)) {
            problems.push({
              path: `${at}.options`,
              code: 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID',
              message: 'A sub-command group may only contain sub-commands',
            });
          }
          checkOptions(option.options, `${at}.options`, depth + 1, problems);
        } else {
          const inner = Array.isArray(option.options) ? option.options : [];
          if (inner.some((o) => isObject(o) && isSub(o.type))) {
            problems.push({
              path: `${at}.options`,
              code: 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID',
              message: 'A sub-command may not contain sub-commands',
            });
          }
          checkOptions(option.options, `${at}.options`, depth + 2, problems);
        }
      }
      return;
    }
    if (option.required === true && sawOptional) {
      problems.push({
        path: `${at}.required`,
        code: 'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID',
        message: 'Required options must be placed before non-required options',
      });
    }
    if (option.required !== true) sawOptional = true;
    checkValueOption(option, at, type, problems);
  });
}

function checkValueOption(option: Json, at: string, type: number, problems: Problem[]): void {
  const numeric =
    type === ApplicationCommandOptionType.Integer || type === ApplicationCommandOptionType.Number;
  const string = type === ApplicationCommandOptionType.String;
  if (option.autocomplete === true && !(numeric || string)) {
    problems.push({
      path: `${at}.autocomplete`,
      code: 'APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_INVALID',
      message: 'Autocomplete is only for string, integer and number options',
    });
  }
  if (option.choices !== undefined) {
    if (!(numeric || string) || !Array.isArray(option.choices)) {
      problems.push({
        path: `${at}.choices`,
        code: 'BASE_TYPE_BAD_ARRAY',
        message: 'Choices are not allowed.',
      });
    } else {
      if (option.autocomplete === true && option.choices.length > 0) {
        problems.push({
          path: `${at}.autocomplete`,
          code: 'APPLICATION_COMMAND_OPTIONS_AUTOCOMPLETE_AND_CHOICES',
          message: 'Autocomplete cannot be set with choices',
        });
      }
      if (option.choices.length > MAX_CHOICES) {
        problems.push({
          path: `${at}.choices`,
          code: 'BASE_TYPE_MAX_LENGTH',
          message: `Must be ${MAX_CHOICES} or fewer in length.`,
        });
      }
      option.choices.forEach((choice: unknown, j: number) => {
        const cat = `${at}.choices.${j}`;
        if (!isObject(choice)) return;
        if (typeof choice.name !== 'string' || choice.name.length < 1 || choice.name.length > 100) {
          problems.push({
            path: `${cat}.name`,
            code: 'BASE_TYPE_BAD_LENGTH',
            message: 'Must be 1-100 long.',
          });
        }
        const ok = string
          ? typeof choice.value === 'string' && choice.value.length <= 100
          : typeof choice.value === 'number' &&
            (type === ApplicationCommandOptionType.Number || Number.isInteger(choice.value));
        if (!ok) {
          problems.push({
            path: `${cat}.value`,
            code: 'BASE_TYPE_BAD_TYPE',
            message: 'Invalid choice value.',
          });
        }
      });
    }
  }
  for (const key of ['min_value', 'max_value'] as const) {
    const value = option[key];
    if (value === undefined) continue;
    if (!numeric || typeof value !== 'number') {
      problems.push({ path: `${at}.${key}`, code: 'BASE_TYPE_BAD_TYPE', message: `${key} is not allowed.` });
    }
  }
  if (
    typeof option.min_value === 'number' &&
    typeof option.max_value === 'number' &&
    option.min_value > option.max_value
  ) {
    problems.push({
      path: `${at}.min_value`,
      code: 'NUMBER_TYPE_MAX',
      message: 'min_value exceeds max_value',
    });
  }
  for (const key of ['min_length', 'max_length'] as const) {
    const value = option[key];
    if (value === undefined) continue;
    const ok =
      string && typeof value === 'number' && value >= (key === 'min_length' ? 0 : 1) && value <= 6000;
    if (!ok)
      problems.push({ path: `${at}.${key}`, code: 'BASE_TYPE_BAD_TYPE', message: `${key} is invalid.` });
  }
  if (option.channel_types !== undefined && type !== ApplicationCommandOptionType.Channel) {
    problems.push({ path: `${at}.channel_types`, code: 'BASE_TYPE_BAD_TYPE', message: 'Not allowed.' });
  }
}

function jsonLength(body: Json): number {
  // Discord's limit counts names, descriptions and values; the serialised length is a close upper bound.
  return JSON.stringify({ n: body.name, d: body.description, o: body.options ?? [] }).length;
}

// -------------------------------------------------------------------------------- interaction options

/** An attachment a test hands to an interaction: hosted on the fake CDN and put in `data.resolved`. */
export interface FakeAttachmentInit {
  filename: string;
  bytes: Uint8Array;
  /** Defaults from the file name. */
  contentType?: string;
  /** The size Discord reports (default: the bytes' length); lie to test pre-download checks. */
  size?: number;
  width?: number;
  height?: number;
  description?: string;
  /** How the CDN serves it (slow, stalled, an error status…). */
  cdn?: CdnBehavior;
}

/** How the fake CDN answers for one file. */
export interface CdnBehavior {
  /** Wait this long before answering. */
  delayMs?: number;
  /** Send the headers and this many bytes, then stall (never end the response). */
  stallAfterBytes?: number;
  /** Answer with this status (and a short text body) instead of the file. */
  status?: number;
  /** Serve with this Content-Type instead of the file's. */
  contentType?: string;
}

/** An option value for an injected interaction; typed from the registered command where there is one. */
export type OptionInput =
  | string
  | number
  | boolean
  | FakeAttachmentInit
  | { type: ApplicationCommandOptionType; value: string | number | boolean };

export type OptionInputs = Record<string, OptionInput | undefined>;

export const isAttachmentInit = (value: unknown): value is FakeAttachmentInit =>
  isObject(value) && 'bytes' in value && 'filename' in value;

/**
 * `data.options` for an interaction invoking `path` (e.g. ['stylize-admin', 'quota', 'set']) with `values`,
 * typed after `command` when it was registered (unknown option names and missing required ones throw,
 * which catches test mistakes), inferred otherwise.
 */
export function buildOptions(
  command: APIApplicationCommand | null,
  path: string[],
  values: OptionInputs,
  attach: (init: FakeAttachmentInit) => APIAttachment,
  focused?: string,
): { options: APIApplicationCommandInteractionDataOption[]; attachments: Record<string, APIAttachment> } {
  const attachments: Record<string, APIAttachment> = {};
  const [, ...subPath] = path;
  let definitions: APIApplicationCommandOption[] | null = command ? (command.options ?? []) : null;
  const wrappers: { name: string; type: ApplicationCommandOptionType }[] = [];
  for (const name of subPath) {
    let type = subPath.length === 2 && wrappers.length === 0 ? 2 : 1;
    if (definitions) {
      const found = definitions.find((d) => d.name === name && isSub(d.type));
      if (!found) throw new Error(`/${path.join(' ')}: the registered command has no sub-command ${name}`);
      type = found.type;
      definitions =
        'options' in found ? ((found.options as APIApplicationCommandOption[] | undefined) ?? []) : [];
    }
    wrappers.push({ name, type });
  }
  if (definitions) {
    for (const name of Object.keys(values)) {
      if (!definitions.some((d) => d.name === name)) {
        throw new Error(
          `/${path.join(' ')} has no option "${name}" (registered: ${definitions.map((d) => d.name)})`,
        );
      }
    }
    // Autocomplete interactions carry only the options typed so far.
    for (const d of focused === undefined ? definitions : []) {
      if ('required' in d && d.required && values[d.name] === undefined && !isSub(d.type)) {
        throw new Error(`/${path.join(' ')}: the required option "${d.name}" is missing`);
      }
    }
  }
  const leaves: APIApplicationCommandInteractionDataOption[] = [];
  for (const [name, input] of Object.entries(values)) {
    if (input === undefined) continue;
    const definition = definitions?.find((d) => d.name === name);
    let type: ApplicationCommandOptionType;
    let value: string | number | boolean;
    if (isAttachmentInit(input)) {
      const attachment = attach(input);
      attachments[attachment.id] = attachment;
      type = ApplicationCommandOptionType.Attachment;
      value = attachment.id;
    } else if (isObject(input)) {
      type = input.type;
      value = input.value;
    } else {
      type = definition?.type ?? inferType(input);
      value = input;
    }
    if (name === focused) {
      leaves.push({
        name,
        type,
        value: String(value),
        focused: true,
      } as APIApplicationCommandInteractionDataOption);
    } else {
      leaves.push({ name, type, value } as APIApplicationCommandInteractionDataOption);
    }
  }
  let options = leaves;
  for (const wrapper of [...wrappers].reverse()) {
    options = [
      { name: wrapper.name, type: wrapper.type, options } as APIApplicationCommandInteractionDataOption,
    ];
  }
  return { options, attachments };
}

function inferType(value: string | number | boolean): ApplicationCommandOptionType {
  if (typeof value === 'boolean') return ApplicationCommandOptionType.Boolean;
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? ApplicationCommandOptionType.Integer
      : ApplicationCommandOptionType.Number;
  }
  return ApplicationCommandOptionType.String;
}

/**
 * A message as the adapter composes it (MessageSpec), and its two shapes on the wire: a channel message over
 * REST with the bot token, and discord.js's interaction reply. Pure: data in, payload out.
 */
import type { RawFile } from '@discordjs/rest';
import type {
  APIActionRowComponent,
  APIButtonComponent,
  RESTPatchAPIChannelMessageJSONBody,
} from 'discord-api-types/v10';

export interface FileSpec {
  name: string;
  data: Buffer;
  contentType?: string;
}

/** A message to send or an edit to make. */
export interface MessageSpec {
  content: string;
  /** Undefined: an edit leaves the buttons as they are; []: removes them. */
  components?: APIActionRowComponent<APIButtonComponent>[];
  /** Undefined: an edit keeps the attachments; otherwise they are replaced by these. */
  files?: FileSpec[];
  /** The only users the message may ping (nobody by default). */
  mentionUsers?: string[];
}

/** Discord's limit on a message's content, in characters. */
const MAX_CONTENT = 2000;

/** The body and files of a channel message create or edit (REST, with the bot token). */
export function toRest(spec: MessageSpec): { body: RESTPatchAPIChannelMessageJSONBody; files?: RawFile[] } {
  const body: RESTPatchAPIChannelMessageJSONBody = {
    content: clip(spec.content),
    allowed_mentions: { parse: [], users: spec.mentionUsers ?? [] },
  };
  if (spec.components !== undefined) body.components = spec.components;
  if (spec.files === undefined) return { body };
  body.attachments = spec.files.map((file, id) => ({ id, filename: file.name }));
  return {
    body,
    files: spec.files.map((file, i) => ({
      key: `files[${i}]`,
      name: file.name,
      data: file.data,
      ...(file.contentType ? { contentType: file.contentType } : {}),
    })),
  };
}

/** The options of discord.js's reply, editReply and followUp. */
export function toInteractionReply(spec: MessageSpec) {
  return {
    content: clip(spec.content),
    allowedMentions: { parse: [], users: spec.mentionUsers ?? [] },
    ...(spec.components !== undefined ? { components: spec.components } : {}),
    ...(spec.files !== undefined
      ? { files: spec.files.map((f) => ({ attachment: f.data, name: f.name })), attachments: [] }
      : {}),
  };
}

/** A moment (ms since the epoch) as a Discord timestamp, which each member sees in their own time zone. */
export const timestamp = (at: number) => `<t:${Math.round(at / 1000)}:R>`;

function clip(text: string): string {
  return text.length <= MAX_CONTENT ? text : `${text.slice(0, MAX_CONTENT - 1)}…`;
}

/** Lines joined under Discord's limit; those that do not fit are counted in a last line ("… and 3 more"). */
export function clipLines(lines: string[]): string {
  const out: string[] = [];
  let length = 0;
  for (const [i, line] of lines.entries()) {
    const rest = lines.length - i;
    if (length + line.length + 1 > MAX_CONTENT - 20) {
      out.push(`… and ${rest} more`);
      break;
    }
    out.push(line);
    length += line.length + 1;
  }
  return out.join('\n');
}

/**
 * The image formats the bot reads (decode.ts decodes exactly these), in the forms the rest of the code needs
 * them: MIME types for platforms' metadata, file extensions for names and upload pickers, and the list as
 * members read it.
 */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | 'tiff';

const FORMATS: readonly { format: ImageFormat; name: string; mime: string; extensions: string[] }[] = [
  { format: 'jpeg', name: 'JPEG', mime: 'image/jpeg', extensions: ['jpg', 'jpeg'] },
  { format: 'png', name: 'PNG', mime: 'image/png', extensions: ['png'] },
  { format: 'webp', name: 'WebP', mime: 'image/webp', extensions: ['webp'] },
  { format: 'gif', name: 'GIF', mime: 'image/gif', extensions: ['gif'] },
  { format: 'avif', name: 'AVIF', mime: 'image/avif', extensions: ['avif'] },
  { format: 'tiff', name: 'TIFF', mime: 'image/tiff', extensions: ['tiff', 'tif'] },
];

/** "JPEG, PNG, WebP, GIF, AVIF or TIFF". */
export const IMAGE_FORMAT_NAMES = `${FORMATS.slice(0, -1)
  .map((f) => f.name)
  .join(', ')} or ${FORMATS.at(-1)!.name}`;

export const IMAGE_MIME_TYPES: ReadonlySet<string> = new Set(FORMATS.map((f) => f.mime));

/** Extensions without the dot, lower case. */
export const IMAGE_EXTENSIONS: readonly string[] = FORMATS.flatMap((f) => f.extensions);

/** Whether a file name ends in one of the extensions (any case). */
export function hasImageExtension(fileName: string): boolean {
  const dot = fileName.lastIndexOf('.');
  return dot >= 0 && IMAGE_EXTENSIONS.includes(fileName.slice(dot + 1).toLowerCase());
}

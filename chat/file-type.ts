import { hasImageExtension, IMAGE_MIME_TYPES, ImageError } from '../lib/images/index.ts';

const HEIC = /^image\/hei[cf](-sequence)?$|\.hei[cf]$/i;

/**
 * Whether a member's file looks like an image the bot reads, from what the platform says of it before anything
 * is downloaded: its Content-Type, else its name's extension. Returns the member's error (HEIC, which phones
 * save by default, with what to do about it), or undefined when it may be downloaded; decoding is the final word.
 */
export function checkImageType(
  contentType: string | null | undefined,
  fileName: string,
): ImageError | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (HEIC.test(type) || HEIC.test(fileName)) return ImageError.unsupported('heic');
  const looksLikeImage = type ? IMAGE_MIME_TYPES.has(type) : hasImageExtension(fileName);
  return looksLikeImage ? undefined : ImageError.unsupported();
}

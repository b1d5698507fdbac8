import sharp, { type Metadata } from 'sharp';
import { fitSize, type RgbImage, rgbImage } from '../engine.ts';
import { ImageError } from './errors.ts';
import type { ImageFormat } from './formats.ts';

/** What the header says; `width` and `height` are after EXIF orientation, as the picture will be decoded. */
export interface ImageInfo {
  readonly format: ImageFormat;
  readonly width: number;
  readonly height: number;
}

export interface DecodeOptions {
  /** Refuse images with more pixels than this (default 40 megapixels). */
  readonly maxPixels?: number;
  /** Resize so the longer side is this many pixels (up or down), keeping the aspect ratio. */
  readonly maxSide?: number;
}

export const DEFAULT_MAX_PIXELS = 40e6;

/**
 * libjpeg warnings that phones and cameras (Samsung above all) produce in photos that every viewer shows fine.
 * Every other warning stays fatal: a garbage body only gives "premature end of data segment" warnings,
 * which sharp's laxer `failOn: 'error'` would accept as a mostly grey picture.
 */
const HARMLESS_JPEG_WARNING = /Invalid SOS parameters for sequential JPEG|extraneous bytes before marker/;

/**
 * Reads only the header: the format, the size, and whether we will accept the file.
 * Throws `ImageError` for empty, unsupported, unreadable-header and too-large files without decoding any pixels.
 */
export async function probeImage(
  input: Buffer,
  opts: Pick<DecodeOptions, 'maxPixels'> = {},
): Promise<ImageInfo> {
  if (input.length === 0) throw ImageError.empty();
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  let meta: Metadata;
  try {
    // Header parsing allocates nothing per pixel, so lifting sharp's own limit here is safe,
    // and it lets the too-large message give the real size instead of sharp's generic refusal.
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw hasAcceptedSignature(input) ? ImageError.corrupt(error) : ImageError.unsupported();
  }
  const format = acceptedFormat(meta);
  if (meta.width * meta.height > maxPixels) throw ImageError.tooLarge(meta.width, meta.height, maxPixels);
  return { format, width: meta.autoOrient.width, height: meta.autoOrient.height };
}

/**
 * Decodes a user's image into upright 8-bit sRGB, transparency flattened onto white, the first frame of an animation,
 * optionally resized. Every failure the user can fix is an `ImageError`.
 */
export async function decodeImage(input: Buffer, opts: DecodeOptions = {}): Promise<RgbImage> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const info = await probeImage(input, { maxPixels });
  const size = opts.maxSide === undefined ? undefined : fitSize(info.width, info.height, opts.maxSide);
  try {
    // 'warning' is sharp's strictest level and the only one that refuses a JPEG whose body is garbage.
    return await decodePixels(input, maxPixels, size, 'warning');
  } catch (error) {
    if (info.format !== 'jpeg' || !onlyHarmlessJpegWarnings(error)) throw ImageError.corrupt(error);
    try {
      return await decodePixels(input, maxPixels, size, 'error');
    } catch (retryError) {
      throw ImageError.corrupt(retryError);
    }
  }
}

async function decodePixels(
  input: Buffer,
  maxPixels: number,
  size: { width: number; height: number } | undefined,
  failOn: 'warning' | 'error',
): Promise<RgbImage> {
  // probeImage has already checked the size. limitInputPixels repeats the check inside the decoder, which parses
  // the header again, so even if the two ever disagreed nothing oversized is allocated. (0 means "no limit".)
  let pipeline = sharp(input, { failOn, limitInputPixels: Math.ceil(maxPixels), autoOrient: true })
    .flatten({ background: '#ffffff' })
    // Already sharp's default for raw output; stated because the engine relies on it: CMYK, 16-bit, greyscale
    // and ICC-tagged inputs all come out as 8-bit sRGB.
    .toColourspace('srgb');
  if (size) pipeline = pipeline.resize(size.width, size.height, { fit: 'fill', kernel: 'lanczos3' });
  const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoder produced ${info.channels} channels, expected 3`);
  return rgbImage(info.width, info.height, Float32Array.from(data));
}

function acceptedFormat(meta: Metadata): ImageFormat {
  switch (meta.format) {
    case 'jpeg':
    case 'png':
    case 'webp':
    case 'gif':
    case 'tiff':
      return meta.format;
    case 'heif':
      // The HEIF container holds both AVIF (AV1, which sharp decodes) and HEIC (HEVC, which it does not).
      if (meta.compression === 'av1') return 'avif';
      throw ImageError.unsupported(meta.compression === 'hevc' ? 'heic' : undefined);
    default:
      // SVG and the other formats sharp knows are refused even where it could render them: they are not
      // photos, and each extra decoder fed untrusted input is attack surface we do not need.
      throw ImageError.unsupported();
  }
}

/**
 * Whether the file starts like one of the formats we accept. When sharp cannot parse a header this tells
 * "a damaged photo" (worth sending again) from "not a photo at all", which sharp's errors do not say reliably.
 */
function hasAcceptedSignature(input: Buffer): boolean {
  const start = input.toString('latin1', 0, 12);
  return (
    start.startsWith('\xff\xd8\xff') || // JPEG
    start.startsWith('\x89PNG') ||
    start.startsWith('GIF8') ||
    (start.startsWith('RIFF') && start.slice(8) === 'WEBP') ||
    start.startsWith('II*\0') || // TIFF, little-endian
    start.startsWith('MM\0*') || // TIFF, big-endian
    (start.slice(4, 8) === 'ftyp' && /^avi[fs]$/.test(start.slice(8))) // AVIF still image or sequence
  );
}

function onlyHarmlessJpegWarnings(error: unknown): boolean {
  const lines = messageOf(error)
    .split('\n')
    .filter((line) => line.trim() !== '');
  return lines.length > 0 && lines.every((line) => HARMLESS_JPEG_WARNING.test(line));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

import { extname } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import type { RgbImage } from '../engine.ts';

export type OutputFormat = 'png' | 'jpeg';

export interface EncodeOptions {
  /** JPEG quality 1-100 (default 90); PNG ignores it. */
  readonly quality?: number;
}

const EXTENSIONS = new Map<string, OutputFormat>([
  ['.png', 'png'],
  ['.jpg', 'jpeg'],
  ['.jpeg', 'jpeg'],
]);

/** Encodes an image; values outside 0-255 (the optimiser overshoots) are clamped and the rest rounded. */
export async function encodeImage(
  image: RgbImage,
  format: OutputFormat,
  opts: EncodeOptions = {},
): Promise<Buffer> {
  return encodeAs(rawPipeline(image), format, opts).toBuffer();
}

/** The output format a file name asks for, from its extension. */
export function formatForPath(path: string): OutputFormat {
  const format = EXTENSIONS.get(extname(path).toLowerCase());
  if (!format) {
    throw new Error(`Cannot write "${path}": the file name must end in .png, .jpg or .jpeg.`);
  }
  return format;
}

/** A sharp pipeline reading the image's pixels as 8-bit RGB. */
export function rawPipeline(image: RgbImage): Sharp {
  // Converting to Uint8ClampedArray clamps to 0-255 and rounds to nearest, ties to even (NaN becomes 0).
  const bytes = new Uint8ClampedArray(image.data);
  return sharp(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
    raw: { width: image.width, height: image.height, channels: 3 },
  });
}

/** Sets the output format, shared by every image we write so they all look the same. */
export function encodeAs(pipeline: Sharp, format: OutputFormat, opts: EncodeOptions = {}): Sharp {
  if (format === 'png') return pipeline.png();
  // 4:4:4 keeps the fine colour detail of brushwork that the default 4:2:0 chroma subsampling smears.
  return pipeline.jpeg({ quality: opts.quality ?? 90, chromaSubsampling: '4:4:4' });
}

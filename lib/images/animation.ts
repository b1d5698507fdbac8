import { extname } from 'node:path';
import sharp from 'sharp';

/** Formats of an animated image: WebP (full colour) or GIF (a 256-colour palette, previewed everywhere). */
export type AnimationFormat = 'webp' | 'gif';

/** Frames of one size: 8-bit RGB, `height × width × 3`, row-major (as engine/timelapse.ts keeps them). */
export interface AnimationFrame {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

export interface AnimationOptions {
  /** How long each frame shows, ms (default 100). */
  frameMs?: number;
  /** How long the last frame (the result) stays before the loop starts again, ms (default 2000). */
  holdLastMs?: number;
}

const EXTENSIONS = new Map<string, AnimationFormat>([
  ['.webp', 'webp'],
  ['.gif', 'gif'],
]);

/**
 * Encodes frames as a looping animated image with sharp (libvips): the frames stacked into one raw image of
 * `pageHeight` pages. WebP is lossy at quality 80, at effort 2 of 6 (60 frames of 256 x 192 px: 0.30 s of CPU and
 * 5% larger than at the default 4, which took 0.47 s), and libwebp merges a frame identical to the one before into it
 * (one frame shown for both durations: the same playing time). GIF keeps every frame, dithered to its palette.
 * Throws when there are no frames or they differ in size.
 */
export async function encodeAnimation(
  frames: readonly AnimationFrame[],
  format: AnimationFormat,
  options: AnimationOptions = {},
): Promise<Buffer> {
  const first = frames[0];
  if (!first) throw new Error('an animation needs at least one frame');
  const { width, height } = first;
  if (frames.some((f) => f.width !== width || f.height !== height)) {
    throw new Error('the frames of an animation must all have one size');
  }
  const stacked = Buffer.concat(
    frames.map((f) => Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength)),
  );
  const frameMs = options.frameMs ?? 100;
  const delay = frames.map((_, i) => (i === frames.length - 1 ? (options.holdLastMs ?? 2000) : frameMs));
  const pipeline = sharp(stacked, {
    raw: { width, height: height * frames.length, channels: 3, pageHeight: height },
  });
  return (
    format === 'webp'
      ? pipeline.webp({ quality: 80, effort: 2, loop: 0, delay })
      : pipeline.gif({ loop: 0, delay, keepDuplicateFrames: true, effort: 1 })
  ).toBuffer();
}

/**
 * An animated image (any format sharp reads: the stored WebP) as an animated GIF, with its frames' delays and
 * loop. At the lowest effort (1 of 10): quantising every frame to its palette is most of the cost, about 45 ms of
 * CPU a frame at 256 x 192 px on the development machine, where the default effort (7) took seven times that.
 */
export async function animationAsGif(bytes: Buffer): Promise<Buffer> {
  return sharp(bytes, { animated: true }).gif({ effort: 1, keepDuplicateFrames: true }).toBuffer();
}

/** The animation format a file name asks for, from its extension. */
export function animationFormatForPath(path: string): AnimationFormat {
  const format = EXTENSIONS.get(extname(path).toLowerCase());
  if (!format) throw new Error(`Cannot write "${path}": a timelapse's file name must end in .webp or .gif.`);
  return format;
}

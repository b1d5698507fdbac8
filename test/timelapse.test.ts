import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createEvaluator,
  type Evaluator,
  LAYER_SETS,
  type RgbImage,
  resize,
  rgbImage,
  stylize,
  weightsFromStrength,
} from '../engine/index.ts';
import { FrameRecorder, type TimelapseFrame } from '../engine/timelapse.ts';
import { animationAsGif, animationFormatForPath, decodeImage, encodeAnimation } from '../lib/images/index.ts';
import { asset, SHALLOW_WEIGHTS } from './assets.ts';

/** A flat grey image whose level is `level`, so that a frame tells which image it was made from. */
const flat = (width: number, height: number, level: number) =>
  rgbImage(width, height, new Float32Array(width * height * 3).fill(level));

describe('FrameRecorder', () => {
  it('keeps the first image, every frame evenly spaced, and the result last, within the bound', () => {
    const recorder = new FrameRecorder(40, 30, { frames: 8, side: 20 });
    for (let i = 0; i <= 29; i++) recorder.offer(i, flat(40, 30, i));
    const frames = recorder.finish(30, flat(40, 30, 200));
    // Seven places before the result: the stride doubled from 1 to 8 as the iterations went past 7, 14 and 28.
    expect(frames.map((f) => f.iteration)).toEqual([0, 8, 16, 24, 30]);
    expect(frames.map((f) => f.data[0])).toEqual([0, 8, 16, 24, 200]);
    for (const frame of frames) expect([frame.width, frame.height, frame.data.length]).toEqual([20, 15, 900]);
  });

  it('keeps every iteration when they fit, the result replacing the last iteration’s frame', () => {
    const recorder = new FrameRecorder(10, 10, { frames: 60, side: 256 });
    for (let i = 0; i <= 5; i++) recorder.offer(i, flat(10, 10, i));
    const frames = recorder.finish(5, flat(10, 10, 99));
    expect(frames.map((f) => f.iteration)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(frames.at(-1)!.data[0]).toBe(99);
    // A result smaller than the frame size keeps its own size.
    expect([frames[0]!.width, frames[0]!.height]).toEqual([10, 10]);
  });

  it('bounds the frames kept over a long run', () => {
    const recorder = new FrameRecorder(8, 8, { frames: 60, side: 8 });
    for (let i = 0; i <= 10_000; i++) recorder.offer(i, flat(8, 8, i % 256));
    const frames = recorder.finish(10_000, flat(8, 8, 0));
    expect(frames.length).toBeLessThanOrEqual(60);
    expect(frames.length).toBeGreaterThanOrEqual(30);
    const gaps = new Set(frames.slice(1, -1).map((f, i) => f.iteration - frames[i]!.iteration));
    expect(gaps.size).toBe(1); // evenly spaced
  });
});

describe('encodeAnimation', () => {
  const frames: TimelapseFrame[] = [0, 60, 120, 180].map((level, i) => ({
    iteration: i,
    width: 24,
    height: 18,
    data: new Uint8ClampedArray(24 * 18 * 3).fill(level),
  }));

  it.each(['webp', 'gif'] as const)(
    'writes a looping animated %s with one page per frame',
    async (format) => {
      const bytes = await encodeAnimation(frames, format);
      const meta = await sharp(bytes, { animated: true }).metadata();
      expect(meta).toMatchObject({ format, pages: 4, width: 24, pageHeight: 18, height: 72, loop: 0 });
      expect(meta.delay).toEqual([100, 100, 100, 2000]);
    },
  );

  it('converts the stored WebP to a GIF with the same frames, delays and loop', async () => {
    const gif = await animationAsGif(await encodeAnimation(frames, 'webp'));
    const meta = await sharp(gif, { animated: true }).metadata();
    expect(meta).toMatchObject({ format: 'gif', pages: 4, width: 24, pageHeight: 18, loop: 0 });
    expect(meta.delay).toEqual([100, 100, 100, 2000]);
  });

  it('takes the format from the file name, and refuses others', () => {
    expect(animationFormatForPath('a/b.WEBP')).toBe('webp');
    expect(animationFormatForPath('t.gif')).toBe('gif');
    expect(() => animationFormatForPath('t.png')).toThrow(/must end in \.webp or \.gif/);
  });
});

describe('stylize with a timelapse (real shallow weights)', () => {
  const layers = { style: [...LAYER_SETS.shallow.style], content: [...LAYER_SETS.shallow.content] };
  let content: RgbImage;
  let style: RgbImage;
  let evaluator: Evaluator;
  beforeAll(async () => {
    content = await decodeImage(await readFile(asset('content/tubingen.jpg')), { maxSide: 64 });
    style = await decodeImage(await readFile(asset('styles/starry_night.jpg')), { maxSide: 64 });
    evaluator = await createEvaluator({ backend: 'auto', weights: SHALLOW_WEIGHTS, layers });
  });

  it('records the whole coarse-to-fine run at one size, from the photo to the result', async () => {
    const result = await stylize(
      evaluator,
      {
        content,
        styles: [{ image: style }],
        size: 64,
        scales: 2, // 32 px, then 64 px
        iterations: 12,
        stop: false,
        layers,
        weights: weightsFromStrength(50, layers),
      },
      { timelapse: { frames: 60, side: 48 } },
    );
    const frames = result.timelapse!;
    expect(frames.map((f) => f.iteration)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    for (const f of frames) expect([f.width, f.height]).toEqual([48, 36]);
    // The first frame is the photo (the coarse scale's start, upsampled), the last the result, at frame size.
    const photo = resize(resize(content, 32, 24), 48, 36);
    expect(meanAbsDiff(frames[0]!.data, photo.data)).toBeLessThan(1);
    expect(meanAbsDiff(frames.at(-1)!.data, resize(result.image, 48, 36).data)).toBeLessThan(1);
    // And the painting changes along the way.
    expect(meanAbsDiff(frames[0]!.data, frames.at(-1)!.data)).toBeGreaterThan(2);
  });
});

function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

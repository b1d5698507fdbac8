import { describe, expect, it } from 'vitest';
import { type RgbImage, resultImage, rgbImage } from '../engine/index.ts';

/** A photo whose colour changes across it: red on the left, blue on the right. */
function photo(width: number, height: number): RgbImage {
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = 3 * (y * width + x);
      data[i] = (255 * (width - 1 - x)) / (width - 1);
      data[i + 1] = 60;
      data[i + 2] = (255 * x) / (width - 1);
    }
  }
  return rgbImage(width, height, data);
}
const grey = (width: number, height: number, level: number) =>
  rgbImage(width, height, new Float32Array(width * height * 3).fill(level));

describe('resultImage: the result of a painting stopped at any scale', () => {
  const request = { content: photo(40, 30), size: 40, scales: 2 };

  it('is at the final size and within 0-255, from a coarser scale’s image', () => {
    const result = resultImage(request, grey(20, 15, 300));
    expect([result.width, result.height]).toEqual([40, 30]);
    expect(Math.max(...result.data)).toBe(255);
    expect(resultImage(request, grey(20, 15, -5)).data.every((v) => v === 0)).toBe(true);
  });

  it('gives a luminance-only image the photo’s colours with preserveColors, and leaves it grey otherwise', () => {
    const lum = grey(20, 15, 128);
    const plain = resultImage(request, lum);
    expect(plain.data.every((v) => Math.abs(v - 128) < 1e-3)).toBe(true);
    const coloured = resultImage({ ...request, preserveColors: true }, lum);
    const at = (x: number) => Array.from(coloured.data.slice(3 * (15 * 40 + x), 3 * (15 * 40 + x) + 3));
    const [left, right] = [at(0), at(39)];
    expect(left[0]!).toBeGreaterThan(left[2]! + 50); // red where the photo is red
    expect(right[2]!).toBeGreaterThan(right[0]! + 50); // blue where it is blue
    // The luminance is the painting's, but for what keeping a saturated colour within 0-255 costs.
    const luma = ([r, g, b]: number[]) => 0.299 * r! + 0.587 * g! + 0.114 * b!;
    expect(Math.abs(luma(left) - 128)).toBeLessThan(8);
    expect(Math.abs(luma(right) - 128)).toBeLessThan(8);
  });
});

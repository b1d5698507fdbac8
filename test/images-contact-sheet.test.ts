import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { type RgbImage, rgbImage } from '../engine/image.ts';
import { contactSheet, contactSheetLayout, decodeImage } from '../lib/images/index.ts';

function solid(width: number, height: number, rgb: [number, number, number]): RgbImage {
  const data = new Float32Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return rgbImage(width, height, data);
}

function at(image: RgbImage, x: number, y: number): number[] {
  const i = (Math.round(y) * image.width + Math.round(x)) * 3;
  return [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
}

describe('contactSheet', () => {
  it('lays out cells row by row, with a label strip under each', () => {
    const layout = contactSheetLayout(5, { columns: 3, cellSize: 100 });
    expect([layout.columns, layout.rows]).toEqual([3, 2]);
    expect(layout.cells).toHaveLength(5);
    expect(layout.cells[3]).toEqual({ left: layout.gap, top: layout.gap * 2 + 100 + layout.labelHeight });
    expect(layout.width).toBe(layout.gap + 3 * (100 + layout.gap));
    expect(layout.height).toBe(layout.gap + 2 * (100 + layout.labelHeight + layout.gap));
    expect(contactSheetLayout(2).columns).toBe(2); // never more columns than items
  });

  it('draws each thumbnail fitted and centred in its cell, labels beneath, as PNG or JPEG', async () => {
    const red = solid(200, 100, [220, 20, 30]); // wide: fitted to 64×32, centred vertically
    const blue = solid(50, 100, [20, 40, 210]); // tall: fitted to 32×64, centred horizontally
    const green = solid(64, 64, [30, 200, 40]);
    const items = [
      { image: red, label: 'starry_night' },
      { image: blue, label: 'a very long preset name that cannot fit under a small cell <&>' },
      { image: green, label: 'green' },
    ];
    const png = await contactSheet(items, { columns: 2, cellSize: 64 });
    const meta = await sharp(png).metadata();
    const layout = contactSheetLayout(3, { columns: 2, cellSize: 64 });
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual([
      'png',
      layout.width,
      layout.height,
      3,
    ]);

    const sheet = await decodeImage(png);
    const [c0, c1, c2] = layout.cells;
    const near = (actual: number[], expected: number[]) =>
      actual.every((v, i) => Math.abs(v - expected[i]!) < 12);
    expect(near(at(sheet, c0!.left + 32, c0!.top + 32), [220, 20, 30])).toBe(true);
    expect(near(at(sheet, c0!.left + 32, c0!.top + 4), [255, 255, 255])).toBe(true); // above the wide one
    expect(near(at(sheet, c1!.left + 32, c1!.top + 32), [20, 40, 210])).toBe(true);
    expect(near(at(sheet, c1!.left + 4, c1!.top + 32), [255, 255, 255])).toBe(true); // beside the tall one
    expect(near(at(sheet, c2!.left + 32, c2!.top + 32), [30, 200, 40])).toBe(true);
    // The label strip has dark text pixels in it.
    let dark = 0;
    for (let x = c0!.left; x < c0!.left + 64; x++) {
      for (let y = c0!.top + 64; y < c0!.top + 64 + layout.labelHeight; y++) {
        if (at(sheet, x, y)[0]! < 128) dark++;
      }
    }
    expect(dark).toBeGreaterThan(5);

    const jpeg = await contactSheet(items, { format: 'jpeg' });
    expect((await sharp(jpeg).metadata()).format).toBe('jpeg');
  });

  it('refuses an empty sheet', async () => {
    await expect(contactSheet([])).rejects.toThrow(/at least one/);
  });
});

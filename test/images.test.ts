import { readFile } from 'node:fs/promises';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { type RgbImage, rgbImage } from '../engine/image.ts';
import {
  comparisonLayout,
  decodeImage,
  encodeImage,
  formatForPath,
  ImageError,
  type ImageErrorCode,
  probeImage,
  sideBySide,
} from '../lib/images/index.ts';
import { asset } from './assets.ts';

// Every fixture is made here in memory; only the shared sample photos are read from disk, never copied.

type Rgb = readonly [number, number, number];
const RED: Rgb = [220, 30, 40];
const BLUE: Rgb = [30, 60, 200];

/** 8-bit RGB pixels drawn by `colour(x, y)`, as a sharp pipeline ready to encode in any format. */
function draw(width: number, height: number, colour: (x: number, y: number) => Rgb) {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(colour(x, y), (y * width + x) * 3);
  }
  return sharp(data, { raw: { width, height, channels: 3 } });
}

const solid = (width: number, height: number, colour: Rgb) => draw(width, height, () => colour);

function pixel(image: RgbImage, x: number, y: number): Rgb {
  const i = (y * image.width + x) * 3;
  return [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
}

function expectClose(actual: Rgb, expected: readonly number[], tolerance: number, what = '') {
  actual.forEach((value, c) => {
    const message = `${what} channel ${c}: ${actual} vs ${expected}`;
    expect(Math.abs(value - expected[c]!), message).toBeLessThanOrEqual(tolerance);
  });
}

async function expectImageError(promise: Promise<unknown>, code: ImageErrorCode): Promise<ImageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImageError);
  expect((error as ImageError).code).toBe(code);
  return error as ImageError;
}

/** Deterministic noise, so a failure reproduces. */
function noise(length: number, seed = 1): Buffer {
  const out = Buffer.alloc(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

/** Offset of the first JPEG marker `code` (0xFF code) after the SOI. */
function markerOffset(jpeg: Buffer, code: number): number {
  const offset = jpeg.indexOf(Buffer.from([0xff, code]), 2);
  expect(offset).toBeGreaterThan(0);
  return offset;
}

/** PNG chunk checksum (zlib.crc32 would do, but only from Node 20.15; package.json allows 20.10). */
function crc32(bytes: Buffer): number {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

/** A PNG that only claims its size: a valid header and a tiny image body that stops after a few rows. */
function pngClaiming(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const frame = Buffer.alloc(8 + body.length);
    frame.writeUInt32BE(data.length, 0);
    body.copy(frame, 4);
    frame.writeUInt32BE(crc32(body), 4 + body.length);
    return frame;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth; colour type 0 (grey) and the rest stay 0
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.alloc((width + 1) * 4))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('decodeImage', () => {
  it('decodes a real photo to 0-255 floats and resizes it to maxSide', async () => {
    const input = await readFile(asset('content/tubingen.jpg'));
    const full = await decodeImage(input);
    expect([full.width, full.height]).toEqual([1024, 768]);
    expect(full.data.length).toBe(1024 * 768 * 3);
    const small = await decodeImage(input, { maxSide: 256 });
    expect([small.width, small.height]).toEqual([256, 192]);
    expect(small.data.every(Number.isInteger)).toBe(true);
    const min = small.data.reduce((a, b) => Math.min(a, b));
    const max = small.data.reduce((a, b) => Math.max(a, b));
    // A real photo spans most of the range; a grey or black decode would not.
    expect(min).toBeLessThan(30);
    expect(max).toBeGreaterThan(225);
  });

  it('enlarges to maxSide keeping the aspect ratio', async () => {
    const image = await decodeImage(await solid(40, 20, RED).png().toBuffer(), { maxSide: 100 });
    expect([image.width, image.height]).toEqual([100, 50]);
    expectClose(pixel(image, 50, 25), RED, 1);
  });

  it('refuses an empty file', async () => {
    const error = await expectImageError(decodeImage(Buffer.alloc(0)), 'empty');
    expect(error.message).toMatch(/empty/);
  });

  it('refuses text, SVG (even a broken one) and PDF by their content', async () => {
    const notImages = [
      'Hello! This is a text file that someone renamed to photo.jpg.\n',
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10"',
      '%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n',
    ];
    for (const text of notImages) {
      const error = await expectImageError(decodeImage(Buffer.from(text)), 'unsupported');
      expect(error.message).toBe(
        'That file is not an image I can read (JPEG, PNG, WebP, GIF, AVIF or TIFF).',
      );
    }
  });

  it('refuses a JPEG whose header is valid but whose body is garbage', async () => {
    const jpeg = await draw(64, 64, (x, y) => [x * 4, y * 4, 128])
      .jpeg()
      .toBuffer();
    const scan = markerOffset(jpeg, 0xda);
    const headerEnd = scan + 2 + jpeg.readUInt16BE(scan + 2);
    const garbage = Buffer.concat([jpeg.subarray(0, headerEnd), noise(8000), Buffer.from([0xff, 0xd9])]);
    // The premise: the header alone still parses, so only the pixel decode can catch this.
    expect((await sharp(garbage).metadata()).width).toBe(64);
    const error = await expectImageError(decodeImage(garbage), 'corrupt');
    expect(error.message).toMatch(/damaged or cut off/);
  });

  it('refuses a truncated JPEG rather than returning it half grey', async () => {
    const input = await readFile(asset('content/tubingen.jpg'));
    await expectImageError(decodeImage(input.subarray(0, Math.floor(input.length * 0.6))), 'corrupt');
  });

  it('calls a file of a supported type with a broken header corrupt', async () => {
    const png = await solid(16, 16, RED).png().toBuffer();
    await expectImageError(decodeImage(png.subarray(0, 20)), 'corrupt');
    const gif = await solid(16, 16, RED).gif().toBuffer();
    await expectImageError(decodeImage(Buffer.concat([gif.subarray(0, 6), noise(200)])), 'corrupt');
  });

  it('accepts JPEGs with the harmless quirks phone cameras produce', async () => {
    const jpeg = await draw(64, 48, (x) => (x < 32 ? RED : BLUE))
      .jpeg()
      .toBuffer();
    const clean = await decodeImage(jpeg);
    // Samsung firmware writes scan parameters that are invalid for a baseline JPEG.
    const scan = markerOffset(jpeg, 0xda);
    const badScan = Buffer.from(jpeg);
    badScan[scan + 5 + badScan[scan + 4]! * 2 + 2] = 0x10;
    // Padding between segments: libjpeg warns about "extraneous bytes before marker".
    const padded = Buffer.concat([jpeg.subarray(0, scan), Buffer.from('padding'), jpeg.subarray(scan)]);
    for (const quirky of [badScan, padded]) {
      await expect(sharp(quirky).raw().toBuffer(), 'sharp alone rejects it').rejects.toThrow(/VipsJpeg/);
      const image = await decodeImage(quirky);
      expect([image.width, image.height]).toEqual([64, 48]);
      expectClose(pixel(image, 10, 10), pixel(clean, 10, 10), 12);
      expectClose(pixel(image, 54, 40), pixel(clean, 54, 40), 12);
    }
  });

  it('refuses a decompression bomb from its header alone, quickly', async () => {
    const bomb = pngClaiming(30000, 30000);
    expect(bomb.length).toBeLessThan(1000);
    const started = performance.now();
    const error = await expectImageError(decodeImage(bomb), 'too-large');
    expect(performance.now() - started).toBeLessThan(500);
    expect(error.message).toBe('That image is 30000×30000 pixels; the limit is 40 megapixels.');
    await expectImageError(probeImage(bomb), 'too-large');
  });

  it('applies a custom maxPixels limit inclusively', async () => {
    const png = await solid(100, 50, RED).png().toBuffer();
    const error = await expectImageError(decodeImage(png, { maxPixels: 4999 }), 'too-large');
    expect(error.message).toMatch(/100×50 pixels; the limit is 0.005 megapixels/);
    expect((await decodeImage(png, { maxPixels: 5000 })).width).toBe(100);
  });

  it('takes the first frame of an animated GIF', async () => {
    const frames = draw(8, 12, (_x, y) => (y < 6 ? RED : BLUE));
    const gif = await sharp(await frames.raw().toBuffer(), {
      raw: { width: 8, height: 12, channels: 3, pageHeight: 6 },
    })
      .gif()
      .toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);
    const image = await decodeImage(gif);
    expect([image.width, image.height]).toEqual([8, 6]);
    expectClose(pixel(image, 4, 3), RED, 8);
    expectClose(pixel(image, 7, 5), RED, 8);
  });

  it('converts a CMYK JPEG to sRGB', async () => {
    const cmyk = await draw(32, 16, (x) => (x < 16 ? RED : BLUE))
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer();
    const meta = await sharp(cmyk).metadata();
    expect([meta.space, meta.channels]).toEqual(['cmyk', 4]);
    const image = await decodeImage(cmyk);
    expect(image.data.length).toBe(32 * 16 * 3);
    const [r, g, b] = pixel(image, 4, 8);
    expect(r).toBeGreaterThan(180);
    expect(Math.max(g, b)).toBeLessThan(80);
    const [r2, g2, b2] = pixel(image, 28, 8);
    expect(b2).toBeGreaterThan(120);
    expect(b2).toBeGreaterThan(r2 + 60);
    expect(b2).toBeGreaterThan(g2 + 30);
  });

  it('converts a 16-bit PNG to 0-255', async () => {
    const png = await solid(8, 8, [200, 100, 50]).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png).metadata()).depth).toBe('ushort');
    const image = await decodeImage(png);
    expect(Math.max(...image.data)).toBeLessThanOrEqual(255);
    expectClose(pixel(image, 3, 3), [200, 100, 50], 1);
  });

  it('expands greyscale to three equal channels', async () => {
    const grey = await draw(8, 8, (x) => [x * 30, x * 30, x * 30])
      .toColourspace('b-w')
      .png()
      .toBuffer();
    expect((await sharp(grey).metadata()).channels).toBe(1);
    const image = await decodeImage(grey);
    expect(image.data.length).toBe(8 * 8 * 3);
    const [r, g, b] = pixel(image, 5, 2);
    expect(r).toBe(g);
    expect(g).toBe(b);
    expect(Math.abs(r - 150)).toBeLessThanOrEqual(1);
  });

  it('turns a photo upright according to its EXIF orientation', async () => {
    // Stored 40×20 with a red top-left corner; orientation 6 means "rotate 90° clockwise to display".
    const jpeg = await draw(40, 20, (x, y) => (x < 8 && y < 8 ? RED : BLUE))
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect((await sharp(jpeg).metadata()).orientation).toBe(6);
    expect(await probeImage(jpeg)).toEqual({ format: 'jpeg', width: 20, height: 40 });
    const image = await decodeImage(jpeg);
    expect([image.width, image.height]).toEqual([20, 40]);
    expectClose(pixel(image, 17, 2), RED, 30);
    expectClose(pixel(image, 2, 2), BLUE, 30);
    expectClose(pixel(image, 17, 37), BLUE, 30);
  });

  it('flattens transparency onto white', async () => {
    const rgba = Buffer.alloc(4 * 4 * 4);
    for (let i = 0; i < 16; i++) rgba.set(i < 8 ? [0, 0, 0, 0] : [0, 0, 0, 128], i * 4);
    const png = await sharp(rgba, { raw: { width: 4, height: 4, channels: 4 } })
      .png()
      .toBuffer();
    const image = await decodeImage(png);
    expect(image.data.length).toBe(4 * 4 * 3);
    expect(pixel(image, 1, 0)).toEqual([255, 255, 255]);
    expectClose(pixel(image, 1, 3), [127, 127, 127], 2);
  });

  it('accepts WebP, AVIF and TIFF', async () => {
    const picture = draw(32, 16, (x) => (x < 16 ? RED : BLUE));
    const encoded = {
      webp: await picture.clone().webp({ lossless: true }).toBuffer(),
      avif: await picture.clone().avif({ quality: 90 }).toBuffer(),
      // sharp's TIFF default is lossy JPEG compression inside the TIFF.
      tiff: await picture.clone().tiff({ compression: 'lzw' }).toBuffer(),
    };
    for (const [format, input] of Object.entries(encoded)) {
      expect(await probeImage(input)).toEqual({ format, width: 32, height: 16 });
      const image = await decodeImage(input);
      const tolerance = format === 'avif' ? 20 : 0;
      expectClose(pixel(image, 4, 8), RED, tolerance, format);
      expectClose(pixel(image, 28, 8), BLUE, tolerance, format);
    }
  });
});

describe('encodeImage', () => {
  const gradient = (width: number, height: number) => {
    const image = rgbImage(width, height);
    image.data.forEach((_, i) => {
      image.data[i] = (i * 37) % 256;
    });
    return image;
  };

  it('round-trips PNG exactly', async () => {
    const image = gradient(23, 17);
    const png = await encodeImage(image, 'png');
    expect((await sharp(png).metadata()).format).toBe('png');
    const back = await decodeImage(png);
    expect([back.width, back.height]).toEqual([23, 17]);
    expect(back.data).toEqual(image.data);
  });

  it('clamps out-of-range values and rounds to the nearest integer', async () => {
    const image = rgbImage(2, 1, Float32Array.from([-40, 300, 127.6, 127.4, 0.49, 254.5001]));
    const back = await decodeImage(await encodeImage(image, 'png'));
    expect(Array.from(back.data)).toEqual([0, 255, 128, 127, 0, 255]);
  });

  it('round-trips JPEG closely, losing more at lower quality', async () => {
    // A small, busy painting: the hardest case for JPEG, so the bounds are loose but still tell 90 from 30.
    const photo = await decodeImage(await readFile(asset('styles/starry_night.jpg')), { maxSide: 128 });
    const meanError = async (quality?: number) => {
      const jpeg = await encodeImage(photo, 'jpeg', quality === undefined ? {} : { quality });
      expect((await sharp(jpeg).metadata()).format).toBe('jpeg');
      const back = await decodeImage(jpeg);
      let error = 0;
      photo.data.forEach((v, i) => {
        error += Math.abs(v - back.data[i]!);
      });
      return error / photo.data.length;
    };
    const fine = await meanError();
    expect(fine).toBeLessThan(7);
    expect(await meanError(30)).toBeGreaterThan(fine * 1.5);
  });
});

describe('formatForPath', () => {
  it('picks the format from the extension, ignoring case', () => {
    expect(formatForPath('out/result.png')).toBe('png');
    expect(formatForPath('RESULT.PNG')).toBe('png');
    expect(formatForPath('a.b/result.jpg')).toBe('jpeg');
    expect(formatForPath('result.JPEG')).toBe('jpeg');
  });

  it('refuses other extensions, saying what works', () => {
    expect(() => formatForPath('result.webp')).toThrow(/\.png, \.jpg or \.jpeg/);
    expect(() => formatForPath('result')).toThrow(/\.png, \.jpg or \.jpeg/);
    expect(() => formatForPath('png')).toThrow(/"png"/);
  });
});

describe('sideBySide', () => {
  const solidImage = (width: number, height: number, colour: Rgb) => {
    const image = rgbImage(width, height);
    for (let i = 0; i < width * height; i++) image.data.set(colour, i * 3);
    return image;
  };
  const GREEN: Rgb = [40, 170, 60];
  // Three aspect ratios: landscape content, portrait style, landscape result.
  const panels = [
    { image: solidImage(80, 60, RED), label: 'content' },
    { image: solidImage(50, 100, GREEN), label: 'style: The Starry Night' },
    { image: solidImage(64, 48, BLUE), label: 'result' },
  ];

  async function decodePng(png: Buffer) {
    expect((await sharp(png).metadata()).format).toBe('png');
    return decodeImage(png);
  }

  /** Pixels darker than the background in a rectangle: the label text, if any. */
  function darkPixels(image: RgbImage, left: number, top: number, width: number, height: number) {
    let count = 0;
    for (let y = top; y < top + height; y++) {
      for (let x = left; x < left + width; x++) if (Math.max(...pixel(image, x, y)) < 128) count++;
    }
    return count;
  }

  it('lays panels out at the result height with gaps and a label strip', () => {
    const layout = comparisonLayout(
      panels.map((p) => p.image),
      48,
    );
    expect(layout.gap).toBeGreaterThan(0);
    expect(layout.labelHeight).toBeGreaterThan(0);
    expect(layout.panels.map((p) => p.width)).toEqual([64, 24, 64]);
    expect(layout.panels.map((p) => p.left)).toEqual([0, 64 + layout.gap, 88 + 2 * layout.gap]);
    expect(layout.width).toBe(64 + 24 + 64 + 2 * layout.gap);
    expect(layout.height).toBe(48 + layout.labelHeight);
  });

  it('draws each panel in place, white around them, with its label underneath', async () => {
    const layout = comparisonLayout(
      panels.map((p) => p.image),
      48,
    );
    const image = await decodePng(await sideBySide(panels));
    expect([image.width, image.height]).toEqual([layout.width, layout.height]);
    [RED, GREEN, BLUE].forEach((colour, i) => {
      const { left, width } = layout.panels[i]!;
      expectClose(pixel(image, left + Math.floor(width / 2), 24), colour, 3);
      expectClose(pixel(image, left + 1, 1), colour, 3);
      expectClose(pixel(image, left + width - 2, 46), colour, 3);
      expect(darkPixels(image, left, 48, width, layout.labelHeight), `label ${i}`).toBeGreaterThan(10);
    });
    expect(pixel(image, 64 + Math.floor(layout.gap / 2), 24)).toEqual([255, 255, 255]);
  });

  it('draws nothing in the strip when labels are empty, and escapes XML in labels', async () => {
    const unlabelled = panels.map((p) => ({ ...p, label: '' }));
    const plain = await decodePng(await sideBySide(unlabelled));
    expect(darkPixels(plain, 0, 48, plain.width, plain.height - 48)).toBe(0);
    const tricky = panels.map((p) => ({ ...p, label: `<b>"Tom & Jerry's"</b>` }));
    const escaped = await decodePng(await sideBySide(tricky));
    expect(darkPixels(escaped, 0, 48, escaped.width, escaped.height - 48)).toBeGreaterThan(30);
  });

  it('keeps a label too long for its panel inside that panel', async () => {
    const layout = comparisonLayout(
      panels.map((p) => p.image),
      48,
    );
    const long = panels.map((p, i) => ({
      ...p,
      label: i === 1 ? 'style: Woman with a Hat (Henri Matisse, 1905), oil on canvas' : '',
    }));
    const image = await decodePng(await sideBySide(long));
    const { left, width } = layout.panels[1]!;
    expect(darkPixels(image, left, 48, width, layout.labelHeight)).toBeGreaterThan(10);
    expect(darkPixels(image, 0, 48, left, layout.labelHeight)).toBe(0);
    expect(darkPixels(image, left + width, 48, image.width - left - width, layout.labelHeight)).toBe(0);
  });

  it('scales to a requested height and writes JPEG', async () => {
    const jpeg = await sideBySide(panels, { height: 120, format: 'jpeg' });
    const meta = await sharp(jpeg).metadata();
    const layout = comparisonLayout(
      panels.map((p) => p.image),
      120,
    );
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', layout.width, layout.height]);
    expect(layout.panels.map((p) => p.width)).toEqual([160, 60, 160]);
  });

  it('composes real photos', async () => {
    const content = await decodeImage(await readFile(asset('content/golden_gate.jpg')), { maxSide: 200 });
    const style = await decodeImage(await readFile(asset('styles/the_scream.jpg')), { maxSide: 200 });
    const result = await decodeImage(await readFile(asset('content/tubingen.jpg')), { maxSide: 160 });
    const png = await sideBySide([
      { image: content, label: 'content' },
      { image: style, label: 'style: The Scream' },
      { image: result, label: 'result' },
    ]);
    const layout = comparisonLayout([content, style, result], result.height);
    const meta = await sharp(png).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([layout.width, layout.height, 3]);
  });
});

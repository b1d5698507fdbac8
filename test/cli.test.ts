import { execFile } from 'node:child_process';
import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { asset, SHALLOW_WEIGHTS } from './assets.ts';

const run = promisify(execFile);
const stylize = (args: string[]) =>
  run(process.execPath, ['bin/stylize.js', ...args], { env: { ...process.env, NO_COLOR: '1' } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stylize-cli-'));
});

describe('stylize CLI', () => {
  it('writes the result and the side-by-side and prints one JSON summary', async () => {
    const out = join(dir, 'r.png');
    const compare = join(dir, 'c.jpg');
    const { code, stdout, stderr } = await stylize([
      asset('content/tubingen.jpg'),
      '--style',
      asset('styles/starry_night.jpg'),
      '--weights',
      SHALLOW_WEIGHTS,
      '--layers',
      'shallow',
      '--size',
      '40',
      '--iterations',
      '4',
      '--out',
      out,
      '--compare',
      compare,
      '--json',
    ]);
    expect(stderr).not.toMatch(/error/i);
    expect(code).toBe(0);
    const summary = JSON.parse(stdout.trim());
    expect(summary).toMatchObject({ size: { width: 40, height: 30 }, iterations: 4, out });
    expect(typeof summary.backend).toBe('string');
    expect(summary.parts.style).toBeGreaterThan(0);
    expect(await sharp(out).metadata()).toMatchObject({ format: 'png', width: 40, height: 30 });
    const side = await sharp(compare).metadata();
    expect(side.format).toBe('jpeg');
    expect(side.width).toBeGreaterThan(3 * 40);
  });

  it('reports bad input in one line with a non-zero exit', async () => {
    const garbage = join(dir, 'notes.jpg');
    await writeFile(garbage, 'this is not a photo');
    const cases: [string[], RegExp][] = [
      [
        [garbage, '--style', asset('styles/starry_night.jpg'), '--out', join(dir, 'x.png')],
        /not an image I can read/,
      ],
      [[join(dir, 'missing.jpg'), '--style', 'x', '--out', join(dir, 'x.png')], /missing.jpg: no such file/],
      [
        [
          asset('content/tubingen.jpg'),
          '--style',
          'no_such_preset',
          '--out',
          join(dir, 'x.png'),
          '--weights',
          SHALLOW_WEIGHTS,
        ],
        /neither an image file nor a preset/,
      ],
      [
        [
          asset('content/tubingen.jpg'),
          '--style',
          asset('styles/starry_night.jpg'),
          '--out',
          join(dir, 'x.gif'),
        ],
        /\.png|\.jpg/,
      ],
      [
        [
          asset('content/tubingen.jpg'),
          '--style',
          asset('styles/starry_night.jpg'),
          '--out',
          join(dir, 'x.png'),
          '--strength',
          '150',
        ],
        /--strength must be at most 100/,
      ],
      [
        [
          asset('content/tubingen.jpg'),
          '--style',
          asset('styles/starry_night.jpg'),
          '--out',
          join(dir, 'x.png'),
          '--size',
          '32',
          '--weights',
          SHALLOW_WEIGHTS,
        ],
        /conv4_1 \(block4_conv1\) is not in the weights/,
      ],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await stylize(args);
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(/^stylize: /);
      expect(stderr).toMatch(message);
    }
    await expect(stat(join(dir, 'x.png'))).rejects.toThrow();
  });
});

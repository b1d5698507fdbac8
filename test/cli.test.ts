import { execFile } from 'node:child_process';
import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCatalogue } from '../src/presets/catalogue.ts';
import { asset, SHALLOW_WEIGHTS } from './assets.ts';
import { loadedPackages } from './imports.ts';
import { writeRandomWeights } from './weights.ts';

const run = promisify(execFile);
const stylize = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, ['bin/stylize.js', ...args], { env: { ...process.env, NO_COLOR: '1', ...env } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

/** A small job on the shallow weights, with its JSON summary. */
const shallowJob = (style: string, size: string, out: string) => [
  asset('content/tubingen.jpg'),
  '--style',
  style,
  '--weights',
  SHALLOW_WEIGHTS,
  '--layers',
  'shallow',
  '--size',
  size,
  '--out',
  out,
  '--json',
];

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

  it('writes the timelapse as an animated GIF or WebP, from the photo through each iteration to the result', async () => {
    for (const name of ['t.gif', 't.webp']) {
      const timelapse = join(dir, name);
      const base = shallowJob(asset('styles/starry_night.jpg'), '40', join(dir, `t-${name}.png`));
      const { code, stdout } = await stylize([
        ...base,
        '--iterations',
        '4',
        '--no-early-stop',
        '--timelapse',
        timelapse,
      ]);
      expect(code).toBe(0);
      expect(JSON.parse(stdout).timelapse).toEqual({ path: timelapse, frames: 5 });
      const meta = await sharp(timelapse, { animated: true }).metadata();
      expect(meta).toMatchObject({ format: name.slice(2), width: 40, pageHeight: 30, loop: 0 });
      // GIF keeps every frame; WebP shows identical neighbours as one longer frame (the same playing time).
      if (name.endsWith('.gif')) expect(meta.pages).toBe(5);
      expect(meta.delay!.reduce((a, b) => a + b, 0)).toBe(4 * 100 + 2000);
    }
  });

  it('stops once the picture has converged, unless told to run every iteration', async () => {
    const base = shallowJob(asset('styles/starry_night.jpg'), '40', join(dir, 'stop.png'));
    const stopped = JSON.parse((await stylize([...base, '--iterations', '500'])).stdout);
    expect(stopped.converged).toBe(true);
    expect(stopped.iterations).toBeLessThan(500);
    const loose = JSON.parse(
      (await stylize([...base, '--iterations', '500', '--stop-window', '3', '--stop-tolerance', '0.2']))
        .stdout,
    );
    expect(loose.iterations).toBeLessThan(stopped.iterations);
    const full = JSON.parse((await stylize([...base, '--iterations', '30', '--no-early-stop'])).stdout);
    expect(full).toMatchObject({ iterations: 30, converged: false });
  });

  it("paints a preset at the catalogue's recommended strength unless --strength says otherwise", async () => {
    const recommended = (await loadCatalogue()).paintings.find((p) => p.id === 'the_scream')!.strength;
    const args = (style: string, ...more: string[]) => [
      ...shallowJob(style, '24', join(dir, 'preset.png')),
      '--iterations',
      '2',
      ...more,
    ];
    const env = { PRESETS_DIR: asset('styles') };
    const strength = async (a: string[]) => JSON.parse((await stylize(a, env)).stdout).strength;
    expect(await strength(args('the_scream'))).toBe(recommended);
    expect(await strength(args('the_scream', '--strength', '70'))).toBe(70);
    expect(await strength(args(asset('styles/the_scream.jpg')))).toBe(50);
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
          '--layers',
          'paper',
        ],
        /paper layers .*conv4_1 \(block4_conv1\) is not in the weights .* blocks 1-3 only: install the full VGG-19 with `stylize weights download`, or use --layers shallow\n$/,
      ],
    ];
    cases.push([
      [asset('content/tubingen.jpg'), '--style', 'x', '--out', join(dir, 'x.png'), '--stop-tolerance', '2'],
      /--stop-tolerance must be at most 1/,
    ]);
    cases.push([
      [asset('content/tubingen.jpg'), '--style', 'x', '--out', join(dir, 'x.png'), '--timelapse', 't.mp4'],
      /a timelapse's file name must end in \.webp or \.gif/,
    ]);
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

describe('stylize CLI: what it refuses before painting', () => {
  let fullWeights: string;
  const shapes: Record<string, string> = {};
  beforeAll(async () => {
    fullWeights = await writeRandomWeights(join(dir, 'random-vgg19'));
    for (const [name, width, height] of [
      ['tall-thin', 1, 5000],
      ['wide-thin', 5000, 1],
      ['screenshot', 1170, 15000],
    ] as const) {
      shapes[name] = join(dir, `${name}.png`);
      await sharp({ create: { width, height, channels: 3, background: '#8060a0' } })
        .png()
        .toFile(shapes[name]);
    }
  });
  const paint = (content: string, extra: string[], env: Record<string, string> = {}) =>
    stylize(
      [content, '--style', asset('styles/starry_night.jpg'), '--out', join(dir, 'refused.png'), ...extra],
      env,
    );
  const oneLine = (result: { code: number; stderr: string }) => {
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    return result.stderr.trim();
  };

  it('a photo too long and narrow for the layers: one line saying how far to crop it', async () => {
    // The paper's layers need 16 px of the shorter side at the smallest scale (192 px at --size 384): 12:1.
    for (const name of ['tall-thin', 'wide-thin', 'screenshot']) {
      const line = oneLine(await paint(shapes[name]!, ['--weights', fullWeights, '--layers', 'paper']));
      expect(line).toMatch(/^stylize: .* is too long and narrow to paint \(\d+x\d+, about \d+:1\)/);
      expect(line).toMatch(
        /at --size 384 these layers paint shapes up to about 12:1; crop it(, or use --size \d+ or more)?$/,
      );
      expect(line).not.toMatch(/conv\d|too small for layer/);
    }
    // The shallow layers need 4 px: the screenshot (about 13:1) paints, a 5000:1 strip does not.
    const shallow = oneLine(
      await paint(shapes['tall-thin']!, ['--weights', SHALLOW_WEIGHTS, '--layers', 'shallow']),
    );
    expect(shallow).toMatch(/about 5000:1\): at --size 384 these layers paint shapes up to about 48:1/);
    // Below 200 px a larger size helps, and the line says which.
    const small = oneLine(
      await paint(shapes.screenshot!, ['--weights', fullWeights, '--layers', 'paper', '--size', '150']),
    );
    expect(small).toMatch(/crop it, or use --size 199 or more$/);
  });

  it('refuses a size whose painting would not fit in memory, before allocating it, with the estimate', async () => {
    const line = oneLine(
      await paint(asset('content/tubingen.jpg'), [
        '--weights',
        SHALLOW_WEIGHTS,
        '--layers',
        'shallow',
        '--size',
        '4096',
        '--backend',
        'onnx',
      ]),
    );
    // 4096x3072 px with the shallow layers: about 75 GiB by the measured 6.1 GiB per megapixel.
    expect(line).toMatch(
      /^stylize: a 4096x3072 painting needs about (7\d|8\d)\.\d GiB of memory on onnx, and \d+\.\d GiB is available: use --size \d+ or less$/,
    );
    const suggested = Number(/--size (\d+)/.exec(line)![1]);
    expect(suggested).toBeGreaterThan(400);
    expect(suggested).toBeLessThan(4096);
  });

  it('paints with the shallow layers where the weights hold blocks 1-3 only, saying so; STYLIZE_LAYERS=paper is refused', async () => {
    const out = join(dir, 'auto.png');
    const auto = await stylize([
      asset('content/tubingen.jpg'),
      '--style',
      asset('styles/starry_night.jpg'),
      '--weights',
      SHALLOW_WEIGHTS,
      '--size',
      '32',
      '--iterations',
      '2',
      '--out',
      out,
      '--json',
    ]);
    expect(auto.code).toBe(0);
    expect(auto.stderr).toMatch(/hold VGG-19 blocks 1-3 only: painting with the shallow layers/);
    expect(JSON.parse(auto.stdout).layers).toEqual({
      style: ['conv1_1', 'conv2_1', 'conv3_1'],
      content: ['conv3_2'],
    });

    const paper = oneLine(
      await paint(asset('content/tubingen.jpg'), ['--weights', SHALLOW_WEIGHTS, '--size', '32'], {
        STYLIZE_LAYERS: 'paper',
      }),
    );
    expect(paper).toMatch(/^stylize: cannot paint with the paper layers \(--layers or STYLIZE_LAYERS\): /);
    expect(paper).toMatch(/or use --layers shallow$/);
  });
});

// Every module a `stylize` process loads, recorded by test/record-loads.mjs: TensorFlow.js (seconds and tens of
// MB to load) only where a TensorFlow.js backend is chosen, ONNX Runtime only where something is painted.
describe('stylize CLI: what it loads', () => {
  const packagesOf = async (args: string[]) => {
    const records = await mkdtemp(join(dir, 'loads-'));
    const result = await run(
      process.execPath,
      ['--import', './test/record-loads.mjs', 'bin/stylize.js', ...args],
      {
        env: { ...process.env, RECORD_LOADS: records },
      },
    );
    const [only, ...more] = await loadedPackages(records);
    expect(more).toEqual([]);
    expect(only!.entry).toMatch(/bin\/stylize\.js$/);
    return { ...result, packages: [...only!.packages] };
  };
  const TFJS = /^@tensorflow\//;

  it('--help loads neither TensorFlow.js nor ONNX Runtime', async () => {
    const { stdout, packages } = await packagesOf(['--help']);
    expect(stdout).toMatch(/^Usage: stylize/);
    expect(packages).toContain('commander');
    expect(packages.filter((name) => TFJS.test(name) || name === 'onnxruntime-node')).toEqual([]);
  });

  it('a painting on ONNX Runtime, named or chosen by auto, loads no TensorFlow.js', async () => {
    for (const backend of ['onnx', 'auto']) {
      const { stdout, packages } = await packagesOf([
        ...shallowJob(asset('styles/starry_night.jpg'), '24', join(dir, `loads-${backend}.png`)),
        '--iterations',
        '2',
        '--backend',
        backend,
      ]);
      expect(JSON.parse(stdout).backend, backend).toBe('onnx');
      expect(packages, backend).toContain('onnxruntime-node');
      expect(
        packages.filter((name) => TFJS.test(name)),
        backend,
      ).toEqual([]);
    }
  });

  it('a painting on a TensorFlow.js backend loads TensorFlow.js', async () => {
    const { stdout, packages } = await packagesOf([
      ...shallowJob(asset('styles/starry_night.jpg'), '24', join(dir, 'loads-cpu.png')),
      '--iterations',
      '1',
      '--backend',
      'cpu',
    ]);
    expect(JSON.parse(stdout).backend).toBe('cpu');
    expect(packages).toContain('@tensorflow/tfjs');
  });
});

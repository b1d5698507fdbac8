import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCatalogue } from '../presets/catalogue.ts';
import { asset, SHALLOW_WEIGHTS } from './assets.ts';
import { loadedPackages } from './imports.ts';
import { ROOT, waitFor } from './job-system.ts';
import { writeRandomWeights } from './weights.ts';

const run = promisify(execFile);
const BIN = join(ROOT, 'bin/stylize.js');
/** The environment of a `stylize` run: its presets in a folder of the test's own, never the checkout's data/. */
const cliEnv = (env: Record<string, string>) => ({
  ...process.env,
  NO_COLOR: '1',
  PRESETS_DIR: join(dir, 'presets'),
  ...env,
});
const stylize = (args: string[], env: Record<string, string> = {}, cwd = ROOT) =>
  run(process.execPath, [BIN, ...args], { env: cliEnv(env), cwd }).then(
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
        /neither an image file nor a preset .*`stylize presets setup` installs the catalogue's paintings/,
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

describe('stylize CLI: as its peers behave', () => {
  /** A small painting on the shallow weights, without --json: what a person or a log sees. */
  const paintArgs = (out: string, ...more: string[]) => [
    asset('content/tubingen.jpg'),
    '--style',
    asset('styles/shipwreck.jpg'),
    '--weights',
    SHALLOW_WEIGHTS,
    '--layers',
    'shallow',
    '--out',
    out,
    ...more,
  ];
  const LINE =
    /^iteration (\d+)\/(\d+) \| scale \d\/\d \d+x\d+ \| loss [\d.]+(e[+-]\d+)? \| (eta \d+s|done|converged)$/;
  const progressLines = (stderr: string) =>
    stderr.split('\n').filter((line) => line.startsWith('iteration '));

  it('--version prints the version of package.json', async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const { code, stdout } = await stylize(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(version);
  });

  it('prints a progress line every 20 iterations when stderr is not a terminal, or every --print-every', async () => {
    const out = join(dir, 'lines.png');
    const byDefault = await stylize(paintArgs(out, '--size', '24', '--iterations', '45', '--no-early-stop'));
    expect(byDefault.code).toBe(0);
    const lines = progressLines(byDefault.stderr);
    for (const line of lines) expect(line).toMatch(LINE);
    expect(lines.map((l) => LINE.exec(l)![1])).toEqual(['20', '40', '45']);
    expect(lines.at(-1)).toMatch(/\| done$/);

    const every = await stylize(
      paintArgs(out, '--size', '24', '--iterations', '6', '--no-early-stop', '--print-every', '2'),
    );
    expect(progressLines(every.stderr).map((l) => LINE.exec(l)![1])).toEqual(['2', '4', '6']);
    const none = await stylize(paintArgs(out, '--size', '24', '--iterations', '6', '--print-every', '0'));
    expect(none.code).toBe(0);
    expect(progressLines(none.stderr)).toEqual([]);
    expect(none.stderr).toMatch(/^wrote .*lines\.png \(24x18, 6 iterations/m);
  });

  it('writes out.png in the working directory without --out', async () => {
    const cwd = await mkdtemp(join(dir, 'cwd-'));
    const args = paintArgs('x', '--size', '24', '--iterations', '2').filter(
      (a) => a !== '--out' && a !== 'x',
    );
    const { code, stderr } = await stylize(args, {}, cwd);
    expect(code).toBe(0);
    expect(stderr).toMatch(/^wrote out\.png \(24x18/m);
    expect(await sharp(join(cwd, 'out.png')).metadata()).toMatchObject({
      format: 'png',
      width: 24,
      height: 18,
    });
  });

  /** A long painting in a process of its own, its stderr collected; ended by the test. */
  function longPainting(out: string, ...more: string[]) {
    const child = spawn(
      process.execPath,
      [
        BIN,
        ...paintArgs(
          out,
          '--size',
          '48',
          '--scales',
          '2',
          '--iterations',
          '100000',
          '--no-early-stop',
          ...more,
        ),
      ],
      { env: cliEnv({}), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    return { child, exited, stderr: () => stderr };
  }

  it('on Ctrl-C writes the painting so far to --out, at the final size, and exits with status 130', async () => {
    const folder = await mkdtemp(join(dir, 'sigint-'));
    const out = join(folder, 'stopped.png');
    const painting = longPainting(out, '--print-every', '1');
    await waitFor('the first progress line', async () => progressLines(painting.stderr()).length > 0);
    await expect(stat(out)).rejects.toThrow(); // nothing written before it is stopped
    painting.child.kill('SIGINT');
    expect(await painting.exited).toBe(130);
    const last = painting.stderr().trim().split('\n').at(-1)!;
    expect(last).toMatch(
      /^stylize: interrupted at iteration \d+ of 100000: wrote the painting so far to .*stopped\.png$/,
    );
    // Stopped at the first scale (24x18), written at the size asked for.
    expect(await sharp(out).metadata()).toMatchObject({ format: 'png', width: 48, height: 36 });
    expect(await readdir(folder)).toEqual(['stopped.png']);
  });

  it('--save-every rewrites --out while it paints, each time whole', async () => {
    const folder = await mkdtemp(join(dir, 'saves-'));
    const out = join(folder, 'saved.jpg');
    const painting = longPainting(out, '--save-every', '3', '--print-every', '0');
    const saved = await waitFor(
      'the first save',
      async () => (await stat(out).catch(() => undefined))?.mtimeMs,
    );
    expect(painting.child.exitCode).toBeNull(); // still painting
    expect(await sharp(out).metadata()).toMatchObject({ format: 'jpeg', width: 48, height: 36 });
    await waitFor('a later save', async () => (await stat(out)).mtimeMs > saved);
    painting.child.kill('SIGINT');
    expect(await painting.exited).toBe(130);
    // Each save was written beside it and renamed into place: no half-written or temporary file is left.
    expect(await readdir(folder)).toEqual(['saved.jpg']);
  });

  it('weights status and presets list print a table for people, JSON with --json', async () => {
    const table = await stylize(['weights', 'status', '--dir', SHALLOW_WEIGHTS]);
    expect(table.stdout).toMatch(/^block +layers +state\n1 +conv1_1 conv1_2 +installed\n/);
    expect(table.stdout).toMatch(/\n4 +conv4_1 conv4_2 conv4_3 conv4_4 +missing\n/);
    expect(table.stdout).toMatch(/8 of 16 convolution layers in .*vgg19-conv1-3/);
    const json = JSON.parse(
      (await stylize(['weights', 'status', '--dir', SHALLOW_WEIGHTS, '--json'])).stdout,
    );
    expect(json).toMatchObject({ installed: true, layers: expect.arrayContaining(['block3_conv4']) });
    expect(json.missing).toContain('block4_conv1');

    const presets = join(dir, 'listed');
    const list = await stylize(['presets', 'list', '--dir', presets]);
    expect(list.stdout.split('\n')[0]).toMatch(/^state +preset +title +artist +year$/);
    expect(list.stdout).toMatch(/\ninstalled +starry_night +The Starry Night +Vincent van Gogh +1889\n/);
    expect(list.stdout).toMatch(/\nmissing +great_wave +The Great Wave off Kanagawa/);
    const listed = JSON.parse((await stylize(['presets', 'list', '--dir', presets, '--json'])).stdout) as {
      id: string;
      installed: boolean;
    }[];
    const catalogue = await loadCatalogue();
    expect(listed.map((p) => p.id)).toEqual(catalogue.paintings.map((p) => p.id));
    expect(
      listed
        .filter((p) => p.installed)
        .map((p) => p.id)
        .sort(),
    ).toEqual(['shipwreck', 'starry_night', 'the_scream', 'woman-with-hat-matisse']);
  });

  it('paints a bundled painting by name with an empty presets folder', async () => {
    const presets = join(dir, 'first-use');
    const out = join(dir, 'bundled.png');
    const { code, stdout } = await stylize([...shallowJob('starry_night', '24', out), '--iterations', '2'], {
      PRESETS_DIR: presets,
    });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ size: { width: 24, height: 18 } });
    expect((await readdir(presets)).sort()).toEqual([
      'shipwreck.jpg',
      'starry_night.jpg',
      'the_scream.jpg',
      'woman-with-hat-matisse.jpg',
    ]);
  });
});

describe('stylize presets setup', () => {
  it('installs the bundled paintings and says, painting by painting, which downloads failed and why', async () => {
    const presets = join(dir, 'offline');
    // A mirror that cannot be reached, as every host is without a network.
    const { code, stderr } = await stylize([
      'presets',
      'setup',
      '--dir',
      presets,
      '--from',
      'http://127.0.0.1:1/',
    ]);
    expect(code).toBe(1);
    const catalogue = await loadCatalogue();
    const bundled = ['shipwreck', 'starry_night', 'the_scream', 'woman-with-hat-matisse'];
    const others = catalogue.paintings.filter((p) => !bundled.includes(p.id));
    const lines = stderr.trim().split('\n');
    for (const painting of others) {
      expect(lines).toContainEqual(
        `${painting.title} — ${painting.artist}, ${painting.year} (${painting.id}) was not installed: ` +
          "could not reach 127.0.0.1:1 (ECONNREFUSED, after 4 tries): check this machine's network access, " +
          'or install it from a mirror with `stylize presets setup --from <dir|url>`',
      );
    }
    expect(lines.at(-2)).toBe(
      `presets in ${presets}: 4 bundled installed, 0 downloaded, 0 already there, ${others.length} failed`,
    );
    expect(lines.at(-1)).toMatch(
      new RegExp(
        `^stylize: ${others.length} of ${catalogue.paintings.length} paintings not installed \\(.+\\); the 4 others are ready$`,
      ),
    );
    expect((await readdir(presets)).filter((f) => f.endsWith('.jpg')).sort()).toEqual(
      bundled.map((id) => `${id}.jpg`),
    );
  });
});

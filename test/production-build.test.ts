import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import { loadedPackages } from './imports.ts';
import {
  type Child,
  createTestDatabase,
  logLines,
  ROOT,
  spawnNode,
  stopProcess,
  submit,
  type TestDatabase,
  testCore,
  testEnv,
  waitFor,
} from './job-system.ts';

const run = promisify(execFile);
/** The top-level folders of the sources, one per role (docs/architecture.md). */
const ROLES = [
  'engine',
  'jobs',
  'rules',
  'presets',
  'lib',
  'bot',
  'discord',
  'slack',
  'chat',
  'worker',
  'cli',
];

/** Every file below `dir` whose name ends with `suffix`. */
function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith(suffix))
    .map((file) => join(dir, file));
}

/** The command line of a process and of each process below it (Linux's /proc). */
function processTree(pid: number): string[][] {
  const children = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((entry) => {
      try {
        // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces, so read after its closing paren.
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === pid ? [Number(entry)] : [];
      } catch {
        return []; // the process ended while being read
      }
    });
  const own = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  return [own, ...children.flatMap(processTree)];
}

// `npm run build`'s compiler step and asset copy into a scratch directory inside the project (so node_modules
// and package.json's "type": "module" apply), and what production runs from it: the bot with its worker
// process, painting a job on SQLite, with no transpiler in either process.
describe('production build', () => {
  let out: string;
  let db: TestDatabase;
  let core: Core;
  let bot: Child | undefined;

  beforeAll(async () => {
    mkdirSync(join(ROOT, '.cache'), { recursive: true });
    out = mkdtempSync(join(ROOT, '.cache', 'build-test-'));
    await run(process.execPath, ['--import', 'tsx', 'scripts/build.ts', out], { cwd: ROOT });
    db = await createTestDatabase('sqlite');
    core = await testCore(db);
  });
  afterAll(async () => {
    if (bot) await stopProcess(bot, 'SIGKILL');
    await core?.close();
    await db?.drop();
    rmSync(out, { recursive: true, force: true });
  });

  it('compiles every module to JavaScript that imports no .ts file', () => {
    for (const dir of ROLES) {
      const sources = filesUnder(join(ROOT, dir), '.ts').filter((f) => !f.endsWith('.d.ts'));
      expect(sources.length, dir).toBeGreaterThan(0);
      for (const source of sources) {
        const compiled = join(out, relative(ROOT, source)).replace(/\.ts$/, '.js');
        expect(existsSync(compiled), compiled).toBe(true);
      }
    }
    for (const file of filesUnder(out, '.js')) {
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/(from|import\()\s*['"]\.{1,2}\/[^'"]*\.ts['"]/);
    }
  });

  it('copies each file the code reads beside itself (new URL(…, import.meta.url)) into the build', () => {
    const read: string[] = [];
    for (const dir of ROLES) {
      for (const source of filesUnder(join(ROOT, dir), '.ts')) {
        for (const match of readFileSync(source, 'utf8').matchAll(
          /new URL\(\s*'([^']+)',\s*import\.meta\.url/g,
        )) {
          const target = match[1]!;
          if (/\.(ts|js)$/.test(target)) continue;
          const path = relative(ROOT, join(dirname(source), target));
          // Only the project's own files: a path out of it (test data beside the checkout) is not shipped.
          if (!path.startsWith('..')) read.push(path);
        }
      }
    }
    expect(read).toEqual(
      expect.arrayContaining(['prisma/migrations', 'presets/catalogue.json', join('engine', 'lbfgs.wasm')]),
    );
    for (const path of read) expect(existsSync(join(out, path)), path).toBe(true);
  });

  it('runs the bot and its worker process as plain node on the compiled files, and paints a job', async () => {
    const job = await submit(core, 'compiled', 'member-1', { size: 24, iterations: 3 });
    const records = mkdtempSync(join(out, 'loads-'));
    bot = spawnNode(
      [join(out, 'bot/main.js')],
      testEnv(db, {
        BOT_WORKERS: '1',
        WORKER_BACKEND: 'onnx',
        NODE_ENV: 'production',
        // Inherited by the worker process: both record what they load (test/record-loads.mjs).
        NODE_OPTIONS: `--import=${pathToFileURL(join(ROOT, 'test/record-loads.mjs')).href}`,
        RECORD_LOADS: records,
      }),
    );
    const child = bot.process;
    const output = bot.output;

    await waitFor('the worker process', async () => logLines(output(), 'worker process started').length > 0);
    const tree = await waitFor('the bot and its worker', async () => {
      const commands = processTree(child.pid!);
      return commands.length >= 2 ? commands : undefined;
    });
    expect(tree[0]).toEqual([process.execPath, join(out, 'bot/main.js')]);
    expect(tree).toContainEqual([process.execPath, join(out, 'worker/main.js')]);
    for (const command of tree) expect(command.join(' '), output()).not.toMatch(/tsx|esbuild/);

    const done = await waitFor(
      'the job painted',
      async () => {
        const row = await core.db.prisma.job.findUniqueOrThrow({ where: { id: job.job.id } });
        return row.status === 'succeeded' || row.status === 'failed' ? row : undefined;
      },
      90_000,
    );
    expect({ status: done.status, error: done.error }).toEqual({ status: 'succeeded', error: null });

    child.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
    bot = undefined;

    // The bot loads no ML runtime; the worker on ONNX Runtime loads it, and neither TensorFlow.js nor wabt.
    const loads = await loadedPackages(records);
    const of = (entry: string) => [...loads.find((p) => p.entry === join(out, entry))!.packages];
    const ML = /^(@tensorflow\/.*|onnxruntime-node|webgpu|wabt)$/;
    expect(of('bot/main.js')).toContain('discord.js');
    expect(of('bot/main.js').filter((name) => ML.test(name))).toEqual([]);
    expect(of('worker/main.js').filter((name) => ML.test(name))).toEqual(['onnxruntime-node']);
  });

  it("asks Dawn for the WebGPU adapter from the build, as from the sources (auto's choice)", async () => {
    const script = `
      const { chooseBackend } = await import(${JSON.stringify(pathToFileURL(join(out, 'engine/index.js')).href)});
      const choice = await chooseBackend('auto', { threads: 1 });
      console.log(JSON.stringify(choice.skipped.find((s) => s.backend === 'onnx-webgpu') ?? choice));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT });
    const webgpu = JSON.parse(stdout) as { backend: string; code?: string; reason?: string };
    // Answered by the adapter query (a device, none, or a software one), not refused before asking.
    expect(webgpu.code, webgpu.reason).not.toBe('not-installed');
  });

  it('runs the compiled CLI, which finds the preset catalogue, the bundled paintings and its version from the build', async () => {
    const cli = (...args: string[]) =>
      run(process.execPath, [join(out, 'cli/main.js'), ...args], {
        cwd: ROOT,
        env: { ...process.env, PRESETS_DIR: join(db.dataDir, 'cli-presets') },
      });
    const { stdout } = await cli('presets', 'list');
    expect(stdout).toMatch(/installed\s+starry_night\s+The Starry Night/);
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect((await cli('--version')).stdout.trim()).toBe(version);
  });
});

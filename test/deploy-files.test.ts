import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, matchesGlob } from 'node:path';
import { promisify } from 'node:util';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadBotConfig } from '../bot/bot-config.ts';
import { loadWorkerConfig } from '../worker/config.ts';
import { importsFrom } from './imports.ts';
import { ROOT } from './job-system.ts';

/**
 * The deployment files read as data: compose.yaml, the Dockerfile, package.json and its lockfile, the Renovate
 * configuration. What the README and docs/operations.md describe for deploying, and no secrets in it.
 */

interface Service {
  image?: string;
  build?: { context: string; target: string };
  profiles?: string[];
  environment?: Record<string, string>;
  env_file?: unknown;
  volumes?: string[];
  healthcheck?: { test: string[] | string };
  command?: string[];
  deploy?: { resources?: { reservations?: { devices?: Record<string, unknown>[] } } };
}

const compose = parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<'postgres' | 'bot' | 'worker-gpu' | 'worker-cpu' | 'presets', Service>;
  volumes: Record<string, unknown>;
};
const SECRET = /TOKEN|SECRET|PASSWORD|KEY/i;

describe('compose.yaml', () => {
  const { services } = compose;

  it('runs PostgreSQL with a volume and a healthcheck, the bot, a GPU worker and a CPU worker, and a one-shot preset install', () => {
    expect(Object.keys(services).sort()).toEqual(['bot', 'postgres', 'presets', 'worker-cpu', 'worker-gpu']);
    expect(services.postgres.image).toMatch(/^postgres:/);
    expect(services.postgres.volumes).toContain('postgres:/var/lib/postgresql/data');
    expect(JSON.stringify(services.postgres.healthcheck?.test)).toContain('pg_isready');
    expect(services.bot.build?.target).toBe('bot');
    expect(services['worker-gpu'].build?.target).toBe('worker-gpu');
    expect(services['worker-cpu'].build?.target).toBe('worker-cpu');
    expect(services.bot.environment?.BOT_WORKERS).toBe('0');
    expect(Object.keys(compose.volumes).sort()).toEqual(['postgres', 'presets', 'weights']);
  });

  it('points every app service at the postgres service, shares weights and presets, and checks /healthz', () => {
    for (const name of ['bot', 'worker-gpu', 'worker-cpu'] as const) {
      const service = services[name];
      expect(service.environment?.DATABASE_URL, name).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
      expect(service.volumes, name).toContainEqual(expect.stringMatching(/^presets:\/data\/presets/));
      const test = service.healthcheck?.test;
      expect(Array.isArray(test) && test[0], name).toBe('CMD');
      expect((test as string[]).join(' '), name).toMatch(/fetch\('http:\/\/127\.0\.0\.1:909[01]\/healthz'\)/);
    }
    for (const name of ['worker-gpu', 'worker-cpu'] as const) {
      expect(services[name].volumes, name).toContain('weights:/weights');
    }
  });

  it('starts PostgreSQL and the bot under every profile, a GPU service only under gpu, a CPU worker only under cpu', () => {
    // What `docker compose --profile P up` starts: the services without a profile, and those of P.
    const started = (profile?: string) =>
      Object.entries(services)
        .filter(([, service]) => !service.profiles || (profile && service.profiles.includes(profile)))
        .map(([name]) => name)
        .sort();
    const usesGpu = (name: string) =>
      services[name as keyof typeof services].deploy?.resources?.reservations?.devices !== undefined;
    expect(started()).toEqual(['bot', 'postgres']);
    expect(started('gpu')).toEqual(['bot', 'postgres', 'worker-gpu']);
    expect(started('cpu')).toEqual(['bot', 'postgres', 'worker-cpu']);
    expect(started('cpu').filter(usesGpu)).toEqual([]);
    expect(started('setup')).toEqual(['bot', 'postgres', 'presets']);
    expect(Object.keys(services).filter(usesGpu)).toEqual(['worker-gpu']);
  });

  it('installs the preset paintings into the volume the bot and the workers read them from, with the CLI', () => {
    const presets = services.presets;
    expect(presets.volumes).toEqual(['presets:/data/presets']);
    const [node, script, ...args] = presets.command ?? [];
    expect([node, args]).toEqual(['node', ['presets', 'setup']]);
    // The CLI is in the image it runs in (the bin, which runs dist/ there).
    expect(existsSync(join(ROOT, script!))).toBe(true);
    const image = dockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).stages.find(
      (stage) => stage.name === presets.build?.target,
    );
    expect(image?.lines).toContainEqual({
      instruction: 'COPY',
      args: `${dirname(script!)} ${dirname(script!)}`,
    });
    expect(readFileSync(join(ROOT, 'compose.yaml'), 'utf8')).toContain('docker compose run --rm presets');
  });

  it('reserves one NVIDIA GPU for the GPU worker', () => {
    expect(services['worker-gpu'].deploy?.resources?.reservations?.devices).toEqual([
      { driver: 'nvidia', count: 1, capabilities: ['gpu'] },
    ]);
    expect(services['worker-cpu'].deploy).toBeUndefined();
  });

  it("gives each service only its role's variables: the chat platforms' to the bot, the engine's to the workers", () => {
    const files = (service: Service) =>
      ((service.env_file ?? []) as { path: string; required?: boolean }[]).map((f) => {
        expect(f.required, f.path).toBe(false);
        return f.path;
      });
    expect(files(services.bot)).toEqual(['.env.jobs', '.env.chat']);
    for (const name of ['worker-gpu', 'worker-cpu'] as const) {
      expect(files(services[name]), name).toEqual(['.env.jobs', '.env.worker']);
    }
    // compose's own .env (POSTGRES_PASSWORD) reaches only postgres, through ${…} references.
    for (const [name, service] of Object.entries(services)) {
      expect(files(service), name).not.toContain('.env');
      const foreign = name === 'bot' ? /^WORKER_/ : /^(DISCORD|SLACK)_/;
      expect(
        Object.keys(service.environment ?? {}).filter((v) => foreign.test(v)),
        name,
      ).toEqual([]);
    }
    const compose = readFileSync(join(ROOT, 'compose.yaml'), 'utf8');
    for (const file of ['.env.jobs', '.env.chat', '.env.worker']) {
      expect(compose, file).toContain(`#   ${file}`);
      for (const ignore of ['.gitignore', '.dockerignore']) {
        expect(readFileSync(join(ROOT, ignore), 'utf8').split('\n'), ignore).toContain('.env.*');
      }
    }
  });

  it('holds no secret inline: secret-looking variables are only variable references', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (SECRET.test(key)) expect(value, `${name}.${key}`).toMatch(/^\$\{[A-Z_]+(:-[^}]*)?\}$/);
        // A URL's password part is a reference too.
        const password = /^\w+:\/\/[^:@/]+:([^@]+)@/.exec(String(value))?.[1];
        if (password !== undefined) expect(password, `${name}.${key}`).toMatch(/^\$\{[A-Z_]+(:-[^}]*)?\}$/);
      }
    }
  });
});

interface Stage {
  name: string;
  from: string;
  lines: { instruction: string; args: string }[];
}

/** The Dockerfile as its global ARG defaults and stages of instructions (continuation lines joined, comments dropped). */
function dockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const joined = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const [instruction = '', ...rest] = line.split(/\s+/);
    const args_ = rest.join(' ');
    if (instruction.toUpperCase() === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args_);
      stages.push({ name: match?.[2] ?? `#${stages.length}`, from: match?.[1] ?? args_, lines: [] });
    } else if (stages.length === 0 && instruction.toUpperCase() === 'ARG') {
      const [name = '', value = ''] = args_.split('=');
      args[name] = value;
    } else {
      stages.at(-1)?.lines.push({ instruction: instruction.toUpperCase(), args: args_ });
    }
  }
  return { args, stages };
}

/** `ENV A=1 B=2` as pairs (the Dockerfile's values hold no spaces). */
const envPairs = (args: string): [string, string][] =>
  args.split(/\s+/).map((pair) => pair.split('=', 2) as [string, string]);

const TARGETS = ['bot', 'worker-cpu', 'worker-gpu'] as const;
const NODE_24 = /^node:24[-.]/;
const CUDA_12_CUDNN_9 = /^nvidia\/cuda:12\.\d+(\.\d+)?-cudnn-runtime-/;

describe('Dockerfile', () => {
  const { args, stages } = dockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  const byName = new Map(stages.map((s) => [s.name, s]));
  const stage = (name: string): Stage => {
    const found = byName.get(name);
    if (!found) throw new Error(`no stage ${name}`);
    return found;
  };
  /** The stage and the stages it is built FROM, itself first. */
  const chain = (s: Stage): Stage[] => {
    const parent = byName.get(s.from);
    return parent ? [s, ...chain(parent)] : [s];
  };
  /** The image a stage is ultimately built on, ARG defaults filled in. */
  const base = (s: Stage): string =>
    chain(s)
      .at(-1)!
      .from.replace(/\$\{(\w+)\}/g, (_, name: string) => args[name] ?? '');
  /** An instruction's last value in a stage or, if it has none, in the stage it is built FROM. */
  const effective = (s: Stage, instruction: string): string | undefined =>
    chain(s)
      .map((c) => c.lines.filter((l) => l.instruction === instruction).at(-1)?.args)
      .find((value) => value !== undefined);
  const env = (s: Stage): Record<string, string> =>
    Object.fromEntries(
      chain(s)
        .reverse()
        .flatMap((c) => c.lines.filter((l) => l.instruction === 'ENV').flatMap((l) => envPairs(l.args))),
    );
  /** A stage's RUN commands, and those of the stages it is built FROM; a script it runs from scripts/, read. */
  const runs = (s: Stage): string[] =>
    chain(s)
      .flatMap((c) => c.lines.filter((l) => l.instruction === 'RUN').map((l) => l.args))
      .flatMap((command) => {
        const script = /^\.\/(\S+\.sh)(\s|$)/.exec(command)?.[1];
        return script ? [command, readFileSync(join(ROOT, 'scripts', script), 'utf8')] : [command];
      });
  /** The stage a target's node_modules come from. */
  const modulesFrom = (s: Stage): Stage => {
    const copy = chain(s)
      .flatMap((c) => c.lines)
      .find((l) => l.instruction === 'COPY' && / \/app\/node_modules /.test(l.args));
    return stage(/--from=(\S+)/.exec(copy?.args ?? '')?.[1] ?? '');
  };

  it('has the targets bot, worker-cpu and worker-gpu, each as a non-root user with a /healthz HEALTHCHECK', () => {
    for (const target of TARGETS) {
      const user = effective(stage(target), 'USER');
      expect(user, target).toBeDefined();
      expect(user, target).not.toMatch(/^(root|0)(:|$)/);
      expect(effective(stage(target), 'HEALTHCHECK'), target).toMatch(/CMD node -e .*\/healthz/);
    }
    expect(effective(stage('bot'), 'HEALTHCHECK')).toContain(':9090/healthz');
    expect(effective(stage('worker-gpu'), 'HEALTHCHECK')).toContain(':9091/healthz');
  });

  it('builds every stage on Node.js 24, the GPU worker on CUDA 12 + cuDNN 9 with Node.js copied in', () => {
    for (const s of stages)
      expect(base(s), s.name).toMatch(new RegExp(`${NODE_24.source}|${CUDA_12_CUDNN_9.source}`));
    expect(base(stage('bot'))).toMatch(NODE_24);
    expect(base(stage('worker-cpu'))).toMatch(NODE_24);
    expect(base(stage('worker-gpu'))).toMatch(CUDA_12_CUDNN_9);
    const nodeCopy = chain(stage('worker-gpu'))
      .flatMap((c) => c.lines)
      .find((l) => l.instruction === 'COPY' && l.args.endsWith('/usr/local/bin/node /usr/local/bin/node'));
    const from = stage(/--from=(\S+)/.exec(nodeCopy?.args ?? '')?.[1] ?? '');
    expect(base(from)).toMatch(NODE_24);
  });

  it('runs the compiled JavaScript of dist/ with plain node, built in a stage of its own', () => {
    for (const target of TARGETS) {
      const cmd = JSON.parse(effective(stage(target), 'CMD') ?? '[]') as string[];
      expect(cmd, target).toEqual(['node', expect.stringMatching(/^dist\/.+\.js$/)]);
      // dist/bot/main.js is compiled from bot/main.ts.
      expect(existsSync(join(ROOT, cmd[1]!.replace(/^dist\//, '').replace(/\.js$/, '.ts'))), target).toBe(
        true,
      );
      const copies = chain(stage(target))
        .flatMap((c) => c.lines)
        .filter((l) => l.instruction === 'COPY' && l.args.includes('--from=build'));
      expect(
        copies.map((l) => l.args),
        target,
      ).toEqual(['--from=build /app/dist dist']);
    }
    expect(runs(stage('build'))).toContain('npm run build');
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).not.toMatch(/\btsx\b/);
  });

  it('installs production dependencies only, without the dev dependencies npm --omit=dev keeps', () => {
    for (const target of TARGETS) {
      expect(runs(stage(target)).join('\n'), target).not.toMatch(/npm (ci|install)/);
      const install = runs(modulesFrom(stage(target))).join('\n');
      expect(install, target).toMatch(/npm pkg delete devDependencies/);
      expect(install, target).toMatch(/npm install --omit=dev/);
    }
    // The bot's install is the workers' less the ML runtimes.
    expect(chain(modulesFrom(stage('bot'))).map((s) => s.name)).toContain(
      modulesFrom(stage('worker-cpu')).name,
    );
    expect(runs(modulesFrom(stage('bot'))).join('\n')).toMatch(/npm uninstall .*onnxruntime-node/);
  });

  it("leaves in the bot's image exactly the packages the bot's processes load: no ML runtime", async () => {
    const removed = runs(modulesFrom(stage('bot')))
      .flatMap((command) => /npm uninstall (.*)/.exec(command)?.[1]?.split(/\s+/) ?? [])
      .filter((word) => !word.startsWith('-'));
    const loaded = new Set([...(await importsFrom('bot/main.ts')), ...(await importsFrom('bot/shard.ts'))]);
    expect(removed.sort()).toEqual(Object.keys(pkg.dependencies).filter((name) => !loaded.has(name)));
    expect(removed).toEqual(expect.arrayContaining(['onnxruntime-node', '@tensorflow/tfjs']));
  });

  it('installs webgpu, an optional dependency, in the GPU worker alone', () => {
    const optional = (target: string) =>
      runs(modulesFrom(stage(target)))
        .flatMap(
          (command) => /^\.\/install-production\.sh(.*)$/.exec(command)?.[1]?.trim().split(/\s+/) ?? [],
        )
        .filter(Boolean);
    expect(optional('worker-gpu')).toEqual(['webgpu']);
    expect(optional('worker-cpu')).toEqual([]);
    expect(pkg.optionalDependencies).toHaveProperty('webgpu');
  });

  it("builds the GPU worker's native modules on its own base, with ONNX Runtime's CUDA 12 provider", () => {
    const gpu = stage('worker-gpu');
    const deps = modulesFrom(gpu);
    expect(base(deps)).toBe(base(gpu));
    expect(env(deps).ONNXRUNTIME_NODE_INSTALL).toBe('cuda12');
    expect(env(modulesFrom(stage('worker-cpu'))).ONNXRUNTIME_NODE_INSTALL).toBe('skip');
    expect(env(gpu).NVIDIA_DRIVER_CAPABILITIES?.split(',').sort()).toEqual([
      'compute',
      'graphics',
      'utility',
    ]);
  });

  it('runs every image as one uid:gid and copies no layer again to change its owner', () => {
    const users = new Set(TARGETS.map((target) => effective(stage(target), 'USER')));
    expect([...users]).toEqual(['1000:1000']);
    for (const s of stages) expect(runs(s).join('\n'), s.name).not.toMatch(/chown\s+(-\w*R|--recursive)/);
  });

  it("creates each volume's mount point in the images, owned by 1000, which a fresh volume takes on", () => {
    const mounts = new Set(
      Object.values(compose.services)
        .filter((service) => service.build)
        .flatMap((service) => service.volumes ?? [])
        .map((volume) => volume.split(':')[1]!),
    );
    expect([...mounts].sort()).toEqual(['/data/presets', '/weights']);
    for (const target of TARGETS) {
      const setup = runs(stage(target)).join('\n');
      for (const path of mounts) {
        expect(setup, `${target} ${path}`).toMatch(new RegExp(`mkdir -p [^&]*${path}( |$)`, 'm'));
        expect(setup, `${target} ${path}`).toMatch(new RegExp(`chown 1000:1000 [^&]*${path}( |$)`, 'm'));
      }
    }
  });

  it('sets no secret through ENV or ARG', () => {
    const settings = stages
      .flatMap((s) => s.lines)
      .filter((l) => l.instruction === 'ENV' || l.instruction === 'ARG');
    expect(settings.length).toBeGreaterThan(0);
    for (const setting of [...settings.map((l) => l.args), ...Object.keys(args)]) {
      expect(setting).not.toMatch(/TOKEN|SECRET|PASSWORD/i);
    }
  });

  it('builds from a context that holds the bundled paintings and what --version reads, which the build copies into dist/', () => {
    const build = stage('build').lines;
    expect(build).toContainEqual({ instruction: 'COPY', args: '. .' });
    expect(build.findIndex((l) => l.args === 'npm run build')).toBeGreaterThan(
      build.findIndex((l) => l.args === '. .'),
    );
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim().replace(/\/$/, ''))
      .filter((line) => line && !line.startsWith('#'));
    for (const file of [
      'presets/bundled/paintings.json',
      'presets/bundled/starry_night.jpg',
      'package.json',
    ]) {
      expect(existsSync(join(ROOT, file)), file).toBe(true);
      const by = ignored.filter((pattern) => matchesGlob(file, pattern) || file.startsWith(`${pattern}/`));
      expect(by, file).toEqual([]);
    }
    const script = readFileSync(join(ROOT, 'scripts/build.ts'), 'utf8');
    for (const asset of ['presets/bundled', 'package.json']) expect(script).toContain(`'${asset}',`);
  });

  it('makes the presets folder the app’s user’s in every image, so a new presets volume is the bot’s to write', () => {
    for (const target of TARGETS) {
      const made = runs(stage(target)).find((command) => /mkdir -p .*\/data\/presets/.test(command));
      expect(made, target).toMatch(/chown 1000:1000 [^&]*\/data\/presets/);
      expect(env(stage(target)).PRESETS_DIR, target).toBe('/data/presets');
    }
  });

  it('keeps .env out of the build context and out of git', () => {
    expect(readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n')).toContain('.env');
    expect(readFileSync(join(ROOT, '.gitignore'), 'utf8').split('\n')).toContain('.env');
  });
});

it('names ONNX Runtime install option ONNXRUNTIME_NODE_INSTALL, never the deprecated ONNXRUNTIME_NODE_INSTALL_CUDA', () => {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  expect(docs).toContain('docs/operations.md');
  for (const file of ['Dockerfile', 'compose.yaml', 'README.md', ...docs, '.ci/run', 'package.json']) {
    expect(readFileSync(join(ROOT, file), 'utf8'), file).not.toContain('ONNXRUNTIME_NODE_INSTALL_CUDA');
  }
  expect(readFileSync(join(ROOT, '.ci/run'), 'utf8')).toContain('ONNXRUNTIME_NODE_INSTALL=skip');
});

interface PackageJson {
  license: string;
  engines: { node: string };
  bin: Record<string, string>;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
  allowScripts: Record<string, boolean>;
}
interface LockEntry {
  version: string;
  dev?: boolean;
  devOptional?: boolean;
  hasInstallScript?: boolean;
  engines?: { node?: string };
  os?: string[];
  cpu?: string[];
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockEntry>;
};
/** The lockfile's packages by name (the last path segment after node_modules/), the root left out. */
const locked = Object.entries(lock.packages)
  .filter(([path]) => path !== '')
  .map(([path, entry]) => ({
    name: path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length),
    entry,
  }));

describe('package.json', () => {
  it('runs production (start, worker, shards, register) as plain node on dist/, development on the sources', () => {
    for (const name of ['start', 'start:sharded', 'worker', 'register']) {
      const script = pkg.scripts[name] ?? '';
      // `exec`: npm runs scripts through `sh -c`; exec makes node npm's own child, so it sees npm go away.
      expect(script, name).toMatch(/^(exec )?node dist\/\S+\.js$/);
      const source = script.replace(/^(exec )?node dist\//, '').replace(/\.js$/, '.ts');
      expect(existsSync(join(ROOT, source)), source).toBe(true);
    }
    expect(pkg.scripts.dev).toBe('exec node --import tsx bot/main.ts');
    expect(pkg.scripts['dev:worker']).toBe('exec node --import tsx worker/main.ts');
    expect(pkg.scripts.test).toBe('vitest run');
    // `npx stylize` in production: the bin falls back to dist/ where tsx is absent.
    expect(readFileSync(join(ROOT, pkg.bin.stylize!), 'utf8')).toContain('../dist/cli/main.js');
  });

  it('is MIT licensed, as the LICENSE file says', () => {
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} \S/);
  });

  it('keeps the compilers, the Prisma CLI and the test tools out of the production dependencies', () => {
    for (const tool of ['prisma', 'tsx', 'typescript', 'vitest', '@biomejs/biome', 'semver', 'wabt']) {
      expect(pkg.dependencies, tool).not.toHaveProperty(tool);
      expect(pkg.devDependencies, tool).toHaveProperty(tool);
    }
    for (const [name, version] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
      expect(version, `${name} is pinned exactly`).toMatch(/^\d+\.\d+\.\d+$/);
    }
  });

  it("states the real engines floor: each range's lowest Node.js runs every production package, one below does not", () => {
    const production = locked.filter(
      ({ entry }) =>
        !entry.dev &&
        !entry.devOptional &&
        entry.engines?.node !== undefined &&
        // Packages for other platforms (sharp's, for one) are never installed here.
        (entry.os?.includes(process.platform) ?? true) &&
        (entry.cpu?.includes(process.arch) ?? true),
    );
    expect(production.length).toBeGreaterThan(20);
    const rejecting = (version: string) =>
      production
        .filter(({ entry }) => !semver.satisfies(version, entry.engines!.node!))
        .map(({ name }) => name);
    const ranges = new semver.Range(pkg.engines.node).set;
    expect(ranges.length).toBeGreaterThan(1);
    for (const comparators of ranges) {
      const lowest = semver.minVersion(new semver.Range(comparators.map((c) => c.value).join(' ')))!;
      expect(rejecting(lowest.version), `node ${lowest.version}`).toEqual([]);
      const below =
        lowest.patch > 0
          ? `${lowest.major}.${lowest.minor}.${lowest.patch - 1}`
          : lowest.minor > 0
            ? `${lowest.major}.${lowest.minor - 1}.999`
            : `${lowest.major - 1}.999.999`;
      expect(semver.satisfies(below, pkg.engines.node), below).toBe(false);
      expect(rejecting(below).length, `node ${below}`).toBeGreaterThan(0);
    }
    expect(semver.satisfies(process.version, pkg.engines.node)).toBe(true);
  });

  it('names in allowScripts exactly the dependencies with install scripts, and npm finds none unreviewed', async () => {
    const withScripts = new Set(locked.filter(({ entry }) => entry.hasInstallScript).map(({ name }) => name));
    expect(Object.keys(pkg.allowScripts).sort()).toEqual([...withScripts].sort());
    // What may run: the native SQLite build, and the runtimes' optional downloads (ONNX Runtime's CUDA provider,
    // libtensorflow for the optional TensorFlow bindings).
    expect(
      Object.entries(pkg.allowScripts)
        .filter(([, allowed]) => allowed)
        .map(([name]) => name)
        .sort(),
    ).toEqual(['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'better-sqlite3', 'onnxruntime-node']);
    const { stdout } = await promisify(execFile)('npm', ['install-scripts', 'ls', '--json'], { cwd: ROOT });
    expect(JSON.parse(stdout)).toEqual({ allowScripts: [] });
  });
});

/** The environment variables the compiled sources read: the keys of their zod schemas, and `env.NAME` reads. */
function variablesRead(): Set<string> {
  const names = new Set<string>();
  const { include } = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as {
    include: string[];
  };
  for (const dir of include) {
    for (const file of readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts') || file.startsWith('generated')) continue;
      const text = readFileSync(join(ROOT, dir, file), 'utf8');
      const keys =
        /\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\s*:\s*(?:z\s*\.|port\(|host\b|count\(|positive\(|millis\(|httpUrl\(|optional\b)/g;
      for (const match of text.matchAll(keys)) names.add(match[1]!);
      for (const match of text.matchAll(/\benv\.([A-Z][A-Z0-9_]+)/g)) names.add(match[1]!);
    }
  }
  // The system's own, read only to find the user's cache directory.
  for (const name of ['HOME', 'XDG_CACHE_HOME']) names.delete(name);
  return names;
}

describe('.env.example', () => {
  /** Its variables by section (the file each goes in): those given a value, and those left as comments. */
  const sections = new Map<string, { name: string; value: string | undefined }[]>();
  let section = '';
  for (const line of readFileSync(join(ROOT, '.env.example'), 'utf8').split('\n')) {
    const heading = /^# ---- (\.env(?:\.\w+)?): /.exec(line);
    if (heading) {
      section = heading[1]!;
      sections.set(section, []);
    }
    const variable = /^(# )?([A-Z][A-Z0-9_]+)=(.*)$/.exec(line);
    if (variable)
      sections.get(section)!.push({ name: variable[2]!, value: variable[1] ? undefined : variable[3] });
  }
  const all = [...sections.values()].flat();
  const given = Object.fromEntries(all.filter((v) => v.value !== undefined).map((v) => [v.name, v.value!]));

  it('lists every variable the processes read once, in the file compose.yaml gives the roles that read it', () => {
    expect([...sections.keys()]).toEqual(['.env', '.env.jobs', '.env.chat', '.env.worker']);
    const names = all.map((v) => v.name);
    expect(names.length).toBe(new Set(names).size);
    const apps = [...sections]
      .filter(([file]) => file !== '.env')
      .flatMap(([, vars]) => vars.map((v) => v.name));
    expect(apps.sort()).toEqual([...variablesRead()].sort());
    expect(sections.get('.env')!.map((v) => v.name)).toEqual(['COMPOSE_PROFILES', 'POSTGRES_PASSWORD']);
    const expected = (name: string) =>
      /^(DISCORD|SLACK|HEALTH)_/.test(name)
        ? '.env.chat'
        : /^WORKER_/.test(name) || name === 'STYLIZE_WEIGHTS_DIR'
          ? '.env.worker'
          : '.env.jobs';
    for (const [file, vars] of sections) {
      if (file !== '.env') for (const { name } of vars) expect(file, name).toBe(expected(name));
    }
  });

  it('gives each variable its default, and no secret a value', () => {
    // Chat credentials (stand-ins) so that the platforms' settings are parsed too.
    const chat = {
      DISCORD_TOKEN: 'token',
      DISCORD_APPLICATION_ID: '123456789012345678',
      SLACK_BOT_TOKEN: 'xoxb-token',
      SLACK_SIGNING_SECRET: 'secret',
    };
    expect(loadBotConfig({ ...given, ...chat })).toEqual(loadBotConfig(chat));
    expect(loadWorkerConfig(given)).toEqual(loadWorkerConfig({}));
    expect(Object.keys(given).length).toBeGreaterThan(30);
    for (const name of Object.keys(given)) expect(name).not.toMatch(SECRET);
  });

  it('is tracked by git, unlike the files made from it', async () => {
    const ignored = (path: string) =>
      promisify(execFile)('git', ['check-ignore', '-q', path], { cwd: ROOT }).then(
        () => true,
        () => false,
      );
    expect(await Promise.all(['.env.example', '.env.jobs', '.env'].map(ignored))).toEqual([
      false,
      true,
      true,
    ]);
  });
});

describe('renovate.json', () => {
  const config = JSON.parse(readFileSync(join(ROOT, 'renovate.json'), 'utf8')) as {
    packageRules: { groupName?: string; matchPackageNames?: string[]; allowedVersions?: string }[];
  };
  /** Renovate's matchPackageNames: exact names and globs (`@prisma/**`). */
  const matches = (patterns: string[], name: string) =>
    patterns.some((pattern) =>
      new RegExp(
        `^${pattern
          .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
          .replace(/\*\*/g, '.*')
          .replace(/(?<!\.)\*/g, '[^/]*')}$`,
      ).test(name),
    );
  const groups = config.packageRules.filter((rule) => rule.groupName);
  const dependencies = Object.keys({
    ...pkg.dependencies,
    ...pkg.devDependencies,
    ...pkg.optionalDependencies,
  });
  const images = Object.values(dockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).args).map(
    (image) => image.split(':')[0]!,
  );

  it('groups the ecosystems that move together, each pattern naming something the project uses', () => {
    expect(groups.map((g) => g.groupName)).toEqual(
      expect.arrayContaining(['discord.js', 'Slack', 'Prisma', 'ONNX Runtime', 'test tools']),
    );
    for (const group of groups) {
      for (const pattern of group.matchPackageNames ?? []) {
        const used = [...dependencies, ...images, ...locked.map(({ name }) => name)];
        expect(
          used.some((name) => matches([pattern], name)),
          `${group.groupName}: ${pattern}`,
        ).toBe(true);
      }
    }
    for (const name of dependencies) {
      const owners = groups.filter((g) => matches(g.matchPackageNames ?? [], name)).map((g) => g.groupName);
      expect(owners.length, `${name}: ${owners.join(', ')}`).toBeLessThanOrEqual(1);
    }
    const prisma = groups.find((g) => g.groupName === 'Prisma')!;
    for (const name of dependencies.filter((n) => n === 'prisma' || n.startsWith('@prisma/'))) {
      expect(matches(prisma.matchPackageNames!, name), name).toBe(true);
    }
    // The GPU image's CUDA goes with the ONNX Runtime release that needs it.
    expect(
      matches(groups.find((g) => g.groupName === 'ONNX Runtime')!.matchPackageNames!, 'nvidia/cuda'),
    ).toBe(true);
  });

  it("keeps Node.js's types on the oldest runtime engines allows", () => {
    const floor = semver.minVersion(pkg.engines.node)!.major;
    const types = config.packageRules.find((rule) => rule.matchPackageNames?.includes('@types/node'));
    expect(semver.satisfies(`${floor}.99.0`, types?.allowedVersions ?? '*')).toBe(true);
    expect(semver.satisfies(`${floor + 1}.0.0`, types?.allowedVersions ?? '*')).toBe(false);
    expect(semver.major(pkg.devDependencies['@types/node']!)).toBe(floor);
  });
});

import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import { capabilitySchema } from '../jobs/workers.ts';
import { OPERATOR_FAULT_TEXT } from '../lib/member-error.ts';
import { jobFailures } from '../lib/metrics.ts';
import { type RunningWorker, startWorker } from '../worker/loop.ts';
import { Painter } from '../worker/paint.ts';
import { SHALLOW_WEIGHTS } from './assets.ts';
import {
  type Child,
  createTestDatabase,
  healthPort,
  logLines,
  spawnProcess,
  stopProcess,
  submit,
  type TestDatabase,
  testCore,
  testEnv,
  waitFor,
} from './job-system.ts';

const readyz = async (port: number) => {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: response.status, body: (await response.json()) as { reason?: string } };
};

// A worker process says what it can paint: with the shallow weights and STYLIZE_LAYERS left at auto it paints
// with the shallow layers and says so; asked for the paper's layers it is not ready, with one line that says why,
// and claims no job of those layers.
describe('a worker and its weights', () => {
  let db: TestDatabase;
  let core: Core;
  const children: Child[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    core = await testCore(db);
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => stopProcess(c)));
    await core?.close();
    await db?.drop();
  });

  it('with blocks 1-3 only and no setting: paints with the shallow layers, saying so, and is ready', async () => {
    const worker = spawnProcess('worker/main.ts', testEnv(db, { WORKER_BACKEND: 'wasm' }));
    children.push(worker);
    const port = await healthPort(worker);
    await waitFor('ready', async () => (await readyz(port)).status === 200);
    const warning = worker
      .output()
      .split('\n')
      .find((l) => l.includes('painting with the shallow layers'));
    expect(JSON.parse(warning!)).toMatchObject({ level: 40, layers: 'shallow' });
    const row = await waitFor(
      'the worker row',
      async () => (await core.db.prisma.worker.findFirst()) ?? undefined,
    );
    expect(row).toMatchObject({ backend: 'wasm', problem: null });
    const declared = capabilitySchema.parse({ ...JSON.parse(row.capability!), ...row });
    expect(declared.auto).toBe('shallow');
    expect(Object.keys(declared.sizes)).toEqual(['shallow']);
    expect(declared.sizes.shallow).toBeGreaterThan(256);
    const { job } = await submit(core, 'weights', 'ann', { layers: 'auto', size: 24, iterations: 2 });
    await waitFor('the auto job painted', async () =>
      (await core.db.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).status === 'succeeded'
        ? true
        : undefined,
    );
    await stopProcess(worker);
  });

  it('with STYLIZE_LAYERS=paper and blocks 1-3 only: not ready, one clear line, no paper job claimed', async () => {
    await core.db.prisma.worker.deleteMany();
    const { job } = await submit(core, 'weights', 'ben', { layers: 'paper', size: 24, iterations: 2 });
    const worker = spawnProcess(
      'worker/main.ts',
      testEnv(db, { WORKER_BACKEND: 'wasm', STYLIZE_LAYERS: 'paper' }),
    );
    children.push(worker);
    const port = await healthPort(worker);
    await waitFor('its start', async () => logLines(worker.output(), 'what this worker paints').length > 0);
    const errors = worker
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{') && JSON.parse(l).level >= 50);
    expect(errors).toHaveLength(1);
    const line = JSON.parse(errors[0]!) as { msg: string; setting: string };
    expect(line.setting).toBe('paper');
    expect(line.msg).toMatch(
      /^cannot paint with the paper layers \(STYLIZE_LAYERS\): layer conv4_1 \(block4_conv1\) is not in the weights at .*, which hold blocks 1-3 only: install the full VGG-19 with `stylize weights download`, or set STYLIZE_LAYERS=shallow \(or auto\)$/,
    );
    expect(await readyz(port)).toEqual({ status: 503, body: { status: 'not ready', reason: line.msg } });
    const row = await waitFor(
      'the worker row',
      async () => (await core.db.prisma.worker.findFirst()) ?? undefined,
    );
    expect(row.problem).toBe(line.msg);
    // Heartbeats go on; the paper job stays queued.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await core.db.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).status).toBe('queued');
    await stopProcess(worker);
  });
});

// Failures that would fail again however often they are tried end at once (one attempt, refunded), reported as
// what they are: the member's input in the member's words, the operator's setup as the general sentence.
describe('deterministic failures', () => {
  let db: TestDatabase;
  let core: Core;
  let weights: string;
  let worker: RunningWorker | undefined;
  let painter: Painter | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    core = await testCore(db);
    weights = join(await mkdtemp(join(tmpdir(), 'stylize-weights-copy-')), 'vgg19');
    await cp(SHALLOW_WEIGHTS, weights, { recursive: true });
  });
  afterAll(async () => {
    await worker?.stop();
    painter?.dispose();
    await core?.close();
    await db?.drop();
  });

  const row = (id: number) => core.db.prisma.job.findUniqueOrThrow({ where: { id } });
  const ended = (id: number) =>
    waitFor('the job to end', async () => {
      const job = await row(id);
      return job.finishedAt ? job : undefined;
    });
  const refunded = async (jobId: number) =>
    (await core.db.prisma.usage.findUniqueOrThrow({ where: { jobId } })).refundedAt !== null;
  const failures = async (reason: string) =>
    (await jobFailures.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

  it('weights gone since the worker started: the operator’s, told as such, not tried again', async () => {
    painter = new Painter({ weightsDir: weights, backend: 'wasm' });
    await painter.capability(); // what it can paint is decided at its start, from the weights then
    await rm(join(weights, 'group6-shard1of1'));
    const setup = await failures('setup');
    worker = startWorker(core, painter);
    const { job } = await submit(core, 'fail', 'ann', { layers: 'shallow', size: 24, iterations: 2 });
    const failed = await ended(job.id);
    expect({ status: failed.status, attempts: failed.attempts, error: failed.error }).toEqual({
      status: 'failed',
      attempts: 1,
      error: OPERATOR_FAULT_TEXT,
    });
    expect(await refunded(job.id)).toBe(true);
    expect(await failures('setup')).toBe(setup + 1);
    // Back once the operator fixes it.
    await cp(join(SHALLOW_WEIGHTS, 'group6-shard1of1'), join(weights, 'group6-shard1of1'));
    const next = await submit(core, 'fail', 'ann', { layers: 'shallow', size: 24, iterations: 2 });
    expect((await ended(next.job.id)).status).toBe('succeeded');
  });

  it('a photo the layers cannot paint (accepted before the check): the member’s, in their words', async () => {
    await worker!.stop();
    const { job } = await submit(core, 'fail', 'ben', { layers: 'shallow', size: 24, iterations: 2 });
    // As if accepted before shapes were checked at submission: its photo swapped for a 1×40 strip.
    const strip = await sharp({ create: { width: 1, height: 40, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    const ref = await core.images.put({ mime: 'image/png', bytes: strip });
    await core.db.prisma.job.update({ where: { id: job.id }, data: { contentRef: ref } });
    const user = await failures('user');
    worker = startWorker(core, painter!);
    const failed = await ended(job.id);
    expect(failed.status).toBe('failed');
    expect(failed.attempts).toBe(1);
    expect(failed.error).toMatch(
      /^Your photo is too long and narrow for me to paint \(1×40 pixels, about 40:1\)/,
    );
    expect(await refunded(job.id)).toBe(true);
    expect(await failures('user')).toBe(user + 1);
  });
});

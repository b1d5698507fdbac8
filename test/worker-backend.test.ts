import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { type BackendChoice, chooseBackend } from '../engine/index.ts';
import { registry } from '../lib/metrics.ts';
import { parseWorkerSettings } from '../worker/config.ts';
import { cpuThreads, Painter } from '../worker/paint.ts';
import { SHALLOW_WEIGHTS } from './assets.ts';
import { ROOT } from './job-system.ts';

/** The worker's compute backend at start: chosen once, logged with the skipped candidates, exported as a metric. */

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

describe('worker compute backend', () => {
  it('is chosen at start, logged with why auto skipped each faster backend, and exported on /metrics', async () => {
    const { log, lines } = capturingLogger();
    const painter = await Painter.start({ weightsDir: SHALLOW_WEIGHTS, backend: 'auto', threads: 1 }, log);
    const choice = painter.choice!;
    expect(choice).toEqual(await chooseBackend('auto', { threads: 1 }));
    // This worker runs on whatever the machine offers; every backend before it in auto's order was skipped.
    expect(choice.skipped.length).toBeGreaterThan(0);
    const line = lines.find((l) => l.msg === 'compute backend chosen');
    expect(line).toMatchObject({ backend: choice.backend, device: choice.device });
    expect(Object.keys(line!.skipped as object)).toEqual(choice.skipped.map((s) => s.backend));

    const metrics = await registry.metrics();
    const skipped = choice.skipped.map((s) => `${s.backend}:${s.code}`).join(',');
    expect(metrics).toContain(
      `stylize_worker_compute_backend{requested="auto",backend="${choice.backend}",device="${choice.device}",skipped="${skipped}"} 1`,
    );
    painter.dispose();
  });

  it('refuses to start on a named backend that cannot run here, saying why', async () => {
    await expect(Painter.start({ weightsDir: SHALLOW_WEIGHTS, backend: 'tensorflow-gpu' })).rejects.toThrow(
      /tfjs-node-gpu (is not installed|loaded but TensorFlow sees no GPU)|did not/,
    );
  });

  it('reports the webgpu package, an optional dependency, as a skipped backend where it is not installed', async () => {
    // A process where importing webgpu fails as it does without the package (test/hide-packages.mjs); the
    // adapter query's child process inherits NODE_OPTIONS.
    const script = `
      const { chooseBackend } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'engine/index.ts')).href)});
      const auto = await chooseBackend('auto', { threads: 1 });
      const named = await chooseBackend('onnx-webgpu').catch((error) => ({ code: error.code, message: error.message }));
      console.log(JSON.stringify({ auto, named }));`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          HIDE_PACKAGES: 'webgpu',
          NODE_OPTIONS: `--import=${pathToFileURL(join(ROOT, 'test/hide-packages.mjs')).href}`,
        },
      },
    );
    const { auto, named } = JSON.parse(stdout) as {
      auto: BackendChoice;
      named: { code: string; message: string };
    };
    const notInstalled = {
      code: 'not-installed',
      reason: expect.stringMatching(/^the webgpu package is not installed \(Dawn's Node\.js binding/),
    };
    expect(auto.backend).toBe('onnx');
    expect(auto.skipped).toContainEqual({ backend: 'onnx-webgpu', ...notInstalled });
    expect(named).toEqual({ code: notInstalled.code, message: notInstalled.reason });
  });

  it("gives each worker process its share of the machine's cores", () => {
    expect(cpuThreads(1, 8)).toBe(8);
    expect(cpuThreads(2, 8)).toBe(4);
    expect(cpuThreads(3, 2)).toBe(1);
    // BOT_WORKERS=0: a worker started by hand is the only one.
    expect(cpuThreads(0, 8)).toBe(8);
    expect(parseWorkerSettings({ WORKER_BACKEND: 'onnx-webgpu' }).backend).toBe('onnx-webgpu');
    expect(parseWorkerSettings({ WORKER_BACKEND: 'onnx-cuda' }).backend).toBe('onnx-cuda');
  });
});

import { execFile, spawn } from 'node:child_process';
import { mkdtemp, open, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import type { Evaluator } from '../engine/evaluator.ts';
import { chooseBackend, createEvaluator } from '../engine/index.ts';
import { findDevice } from '../engine/onnx/providers.ts';
import { asset, SHALLOW_WEIGHTS } from './assets.ts';
import { EVALUATOR_CASES, expectSameEvaluations, randomImages, relative } from './compare.ts';
import { webgpuSkipReason } from './webgpu/adapter.ts';

/**
 * The loss graph on ONNX Runtime's WebGPU provider against the CPU provider: the same graph builder, so the
 * results must agree to float32 rounding (relative error ≤ 1e-4), and the graph must run on the device
 * rather than fall back to the CPU. On lavapipe (software Vulkan) a 64 px evaluation takes about a second,
 * so the sizes are small.
 */

const skip = await webgpuSkipReason();
const run = promisify(execFile);

const randomImage = randomImages(23);

const evaluators: Evaluator[] = [];
afterAll(() => {
  for (const e of evaluators) e.dispose();
});

describe.skipIf(skip)('ONNX Runtime on the WebGPU provider', () => {
  // The cases the ONNX graph is checked on against TensorFlow.js, with its default convolution backward.
  for (const c of EVALUATOR_CASES.filter((c) => !c.backward)) {
    it(`gives the CPU provider's targets, loss and gradient: ${c.name}`, async () => {
      const weights = await c.weights();
      const options = { weights, layers: c.layers, pooling: c.pooling };
      const cpu = await createEvaluator({ ...options, backend: 'onnx' });
      const gpu = await createEvaluator({ ...options, backend: 'onnx-webgpu' });
      evaluators.push(cpu, gpu);
      expect(gpu.backend).toBe('onnx-webgpu');

      const { objective } = await expectSameEvaluations(gpu, cpu, c, randomImage, 1e-4);
      objective.dispose();
    });
  }

  for (const pooling of ['avg', 'max'] as const) {
    it(`runs the ${pooling}-pooling loss graph on the device: only shape arithmetic on the CPU, no copies`, async () => {
      // Into a file, not a pipe: Node.js makes its pipes non-blocking, and the native logger's writes that
      // find the pipe full are lost.
      const script = fileURLToPath(new URL('webgpu/placement.ts', import.meta.url));
      const log = join(await mkdtemp(join(tmpdir(), 'webgpu-placement-')), 'stderr.txt');
      const stderrFile = await open(log, 'w');
      try {
        const child = spawn(process.execPath, ['--import', 'tsx', script, pooling], {
          stdio: ['ignore', 'ignore', stderrFile.fd],
        });
        expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0);
      } finally {
        await stderrFile.close();
      }
      const stderr = await readFile(log, 'utf8');
      // "Node(s) placed on [Provider]. Number of nodes: N" heads each provider's list of "  OpType (name)".
      const placed = new Map<string, string[]>();
      let provider: string | undefined;
      for (const line of stderr.split('\n')) {
        const heading = /Node\(s\) placed on \[(\w+)\]/.exec(line);
        if (heading) provider = heading[1];
        const node = /VerifyEachNodeIsAssignedToAnEp\] {3}(\w+) \(/.exec(line);
        if (node && provider) placed.set(provider, [...(placed.get(provider) ?? []), node[1]!]);
      }
      const onDevice = placed.get('WebGpuExecutionProvider') ?? [];
      const summary = {
        convolutionsOnDevice: onDevice.filter((op) => op === 'Conv').length,
        onCpu: [...new Set(placed.get('CPUExecutionProvider'))].sort(),
        copies: onDevice.filter((op) => op.startsWith('Memcpy')).length,
      };
      // 13 convolutions forward and their 13 input gradients; on the CPU only arithmetic on shapes.
      expect(summary).toEqual({ convolutionsOnDevice: 26, onCpu: ['Concat', 'Gather', 'Mod'], copies: 0 });
    });
  }

  it('paints the same picture from the CLI as the CPU provider, at the same seed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stylize-webgpu-'));
    const paint = async (backend: string) => {
      const out = join(dir, `${backend}.png`);
      const { stdout } = await run(process.execPath, [
        'bin/stylize.js',
        asset('content/tubingen.jpg'),
        ...['--style', asset('styles/starry_night.jpg'), '--weights', SHALLOW_WEIGHTS, '--layers', 'shallow'],
        ...['--size', '40', '--iterations', '8', '--init', 'noise', '--seed', '7', '--backend', backend],
        ...['--out', out, '--json'],
      ]);
      const summary = JSON.parse(stdout);
      const { data } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
      return { summary, data };
    };
    const cpu = await paint('onnx');
    const gpu = await paint('onnx-webgpu');
    expect(gpu.summary).toMatchObject({ backend: 'onnx-webgpu', size: cpu.summary.size, iterations: 8 });
    expect(relative(gpu.summary.loss, cpu.summary.loss)).toBeLessThan(1e-3);
    let sum = 0;
    let max = 0;
    for (let i = 0; i < cpu.data.length; i++) {
      const d = Math.abs(cpu.data[i]! - gpu.data[i]!);
      sum += d;
      max = Math.max(max, d);
    }
    // 8-bit pixels: the two runs differ by float32 rounding, amplified a little by the line searches.
    expect(sum / cpu.data.length).toBeLessThan(0.5);
    expect(max).toBeLessThanOrEqual(8);
  });

  it('is skipped by auto on a software adapter, with the reason, and used when asked for by name', async () => {
    const device = await findDevice('webgpu');
    const named = await chooseBackend('onnx-webgpu');
    expect(named.backend).toBe('onnx-webgpu');
    expect(named.device).toContain(device.name);
    const auto = await chooseBackend('auto');
    const skipped = auto.skipped.find((s) => s.backend === 'onnx-webgpu');
    if (device.software) {
      expect(named.device).toMatch(/\(software adapter\)$/);
      expect(skipped).toMatchObject({
        code: 'software-adapter',
        reason: expect.stringContaining(device.name),
      });
      expect(auto.backend).not.toBe('onnx-webgpu');
    } else {
      // A hardware adapter: auto takes it unless a CUDA backend came first.
      expect(skipped).toBeUndefined();
    }
  });
});

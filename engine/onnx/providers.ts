import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { BackendUnavailable, errorLine, type OnnxBackend } from '../backends.ts';
import type { AdapterAnswer } from './adapter-query.ts';
import { GraphBuilder } from './builder.ts';

const run = promisify(execFile);

/**
 * ONNX Runtime's execution providers: which one each `onnx*` backend runs on, the session options that go
 * with it, and the check that it really reaches a device. ONNX Runtime itself does not say which device a
 * provider found, and when a provider cannot take a node it quietly runs it on the CPU; so a provider counts
 * as started only when a small graph of the loss graph's hot operations (convolution, ReLU, pooling, matrix
 * product) runs on it with the CPU fallback switched off (`session.disable_cpu_ep_fallback`).
 */

export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu';

export const EXECUTION_PROVIDERS: Record<OnnxBackend, ExecutionProvider> = {
  onnx: 'cpu',
  'onnx-cuda': 'cuda',
  'onnx-webgpu': 'webgpu',
};

/** A device an execution provider runs on. */
export interface Device {
  /** As its driver names it, e.g. "NVIDIA H100 80GB HBM3", "llvmpipe (LLVM 19.1.7, 256 bits)". */
  name: string;
  /** A CPU rasteriser posing as a GPU (lavapipe/llvmpipe, SwiftShader): right, but slower than the CPU provider. */
  software: boolean;
}

/** Session options for `provider`; `threads`: the CPU provider's intra-op threads. */
export function sessionOptions(
  provider: ExecutionProvider,
  threads: number,
): ort.InferenceSession.SessionOptions {
  const executionProviders: ort.InferenceSession.ExecutionProviderConfig[] =
    provider === 'cpu'
      ? ['cpu']
      : provider === 'cuda'
        ? [{ name: 'cuda', deviceId: 0 }]
        : // Convolutions channels-last (ONNX Runtime inserts the transposes): 2.2x faster than NCHW per
          // evaluation on lavapipe (64x48 px, shallow layers: 1.1 s against 2.5 s).
          [{ name: 'webgpu', preferredLayout: 'NHWC' }];
  return {
    executionProviders,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    // On a GPU provider these threads serve only the few shape operations left on the CPU.
    intraOpNumThreads: provider === 'cpu' ? threads : 1,
    interOpNumThreads: 1,
    // Errors only: on GPU providers ONNX Runtime warns at every session that shape arithmetic stays on the
    // CPU, which is by design (graph.ts; test/onnx-webgpu.test.ts checks where the nodes are placed).
    logSeverityLevel: 3,
  };
}

/** How reports name the device: the CPU provider's with its thread count, a software adapter as such. */
export function deviceName(
  provider: ExecutionProvider,
  device: Device,
  threads = availableParallelism(),
): string {
  if (provider === 'cpu') return `${device.name}, ${threads} thread${threads === 1 ? '' : 's'}`;
  return device.software ? `${device.name} (software adapter)` : device.name;
}

const devices = new Map<ExecutionProvider, Promise<Device>>();
const checks = new Map<ExecutionProvider, Promise<void>>();

/**
 * The device `provider` would run on, looked up once per process. Throws BackendUnavailable with the reason
 * when its libraries are missing or no device is found.
 */
export function findDevice(provider: ExecutionProvider): Promise<Device> {
  return once(devices, provider, async () =>
    provider === 'cpu' ? cpuDevice() : provider === 'cuda' ? cudaDevice() : await webgpuDevice(),
  );
}

/**
 * Runs the hot operations once on `provider` alone, once per process; BackendUnavailable names why they could
 * not run there.
 */
export function checkOnDevice(provider: ExecutionProvider): Promise<void> {
  return provider === 'cpu' ? Promise.resolve() : once(checks, provider, () => runCheckGraph(provider));
}

function once<T>(
  cache: Map<ExecutionProvider, Promise<T>>,
  provider: ExecutionProvider,
  make: () => Promise<T>,
) {
  let promise = cache.get(provider);
  if (!promise) {
    promise = make();
    cache.set(provider, promise);
  }
  return promise;
}

function cpuDevice(): Device {
  return { name: cpus()[0]?.model.trim() || 'CPU', software: false };
}

/**
 * CUDA: the provider's libraries are not in the npm package (`ONNXRUNTIME_NODE_INSTALL=cuda12` fetches them at
 * install), so their absence is checked first, rather than letting ONNX Runtime log a load failure.
 */
function cudaDevice(): Device {
  const dir = ortLibraryDir();
  if (dir && !existsSync(join(dir, 'libonnxruntime_providers_cuda.so'))) {
    throw new BackendUnavailable(
      'not-installed',
      "ONNX Runtime's CUDA provider is not installed (install with ONNXRUNTIME_NODE_INSTALL=cuda12 on a host with CUDA 12 and cuDNN 9)",
    );
  }
  // The NVIDIA driver lists its GPUs here; the name is only for reports, so its absence is no error.
  const gpus = '/proc/driver/nvidia/gpus';
  const model = existsSync(gpus)
    ? readdirSync(gpus)
        .map((id) => /^Model:\s*(.+)$/m.exec(readFileSync(join(gpus, id, 'information'), 'utf8'))?.[1])
        .find(Boolean)
    : undefined;
  return { name: model ?? 'CUDA device 0', software: false };
}

/**
 * WebGPU: ONNX Runtime's WebGPU provider is built on Dawn and does not say which adapter it got;
 * adapter-query.ts asks Dawn the same question in a child process and tells.
 */
async function webgpuDevice(): Promise<Device> {
  // Beside this module: the TypeScript source (run through tsx), the compiled build's .js, or in the GPU
  // check's bundle, its .mjs.
  const script = ['adapter-query.ts', 'adapter-query.js', 'adapter-query.mjs']
    .map((name) => new URL(name, import.meta.url))
    .find((url) => existsSync(url));
  if (!script) throw new BackendUnavailable('not-installed', 'the WebGPU adapter query is missing');
  const path = fileURLToPath(script);
  const args = path.endsWith('.ts') ? ['--import', import.meta.resolve('tsx'), path] : [path];
  let answer: AdapterAnswer;
  try {
    const { stdout } = await run(process.execPath, args, { timeout: ADAPTER_QUERY_TIMEOUT_MS });
    answer = JSON.parse(stdout.trim().split('\n').at(-1)!);
  } catch (error) {
    // A driver that crashes or hangs while enumerating adapters, or a Dawn binding that does not load here.
    const stderr = (error as { stderr?: string }).stderr?.trim().split('\n').at(-1);
    throw new BackendUnavailable('failed', `the WebGPU adapter query failed (${stderr || errorLine(error)})`);
  }
  if (answer === 'not-installed') {
    throw new BackendUnavailable(
      'not-installed',
      "the webgpu package is not installed (Dawn's Node.js binding, an optional dependency: it tells a hardware adapter from a software one)",
    );
  }
  if (!answer) {
    throw new BackendUnavailable(
      'no-device',
      "no WebGPU adapter: no Vulkan driver reports a device (needs the GPU driver's Vulkan support, libvulkan.so.1)",
    );
  }
  const software =
    answer.isFallbackAdapter ||
    answer.architecture === 'software' ||
    /llvmpipe|lavapipe|swiftshader/i.test(`${answer.description} ${answer.device}`);
  return { name: answer.description || answer.device || answer.vendor || 'WebGPU adapter', software };
}

/** Dawn enumerates adapters in well under a second; a hung driver must not hold a worker's start forever. */
const ADAPTER_QUERY_TIMEOUT_MS = 30_000;

async function runCheckGraph(provider: ExecutionProvider): Promise<void> {
  const g = new GraphBuilder('provider_check');
  const x = g.input('x', [1, 3, 8, 8]);
  const w = g.floats('w', new Float32Array(4 * 3 * 9).fill(0.1), [4, 3, 3, 3]);
  const a = g.op('Relu', [g.op('Conv', [x, w], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })]);
  const pooled = g.op('Reshape', [
    g.op('AveragePool', [a], { kernel_shape: [2, 2], strides: [2, 2] }),
    g.ints([4, 16]),
  ]);
  g.output('y', g.op('MatMul', [pooled, g.op('Transpose', [pooled])]), [4, 4]);
  let session: ort.InferenceSession | undefined;
  try {
    session = await ort.InferenceSession.create(g.encode(), {
      ...sessionOptions(provider, 1),
      logSeverityLevel: 4,
      extra: { session: { disable_cpu_ep_fallback: '1' } },
    });
    const y = (
      await session.run({ x: new ort.Tensor('float32', new Float32Array(192).fill(1), [1, 3, 8, 8]) })
    ).y;
    // Each pooled value is ReLU(sum of 27 weights of 0.1) or less; all 16 equal inside, so y > 0 everywhere.
    if (!y || !(y.data as Float32Array).every((v) => v > 0))
      throw new Error('the check graph gave wrong values');
  } catch (error) {
    if (error instanceof BackendUnavailable) throw error;
    throw new BackendUnavailable(
      'failed',
      `the ${provider} execution provider did not start (${errorLine(error)})`,
    );
  } finally {
    await session?.release();
  }
}

/** Where the loaded ONNX Runtime library lives (its providers' libraries sit beside it); Linux only. */
function ortLibraryDir(): string | undefined {
  try {
    return /\s(\/\S*\/)libonnxruntime\.so[.\d]*$/m.exec(readFileSync('/proc/self/maps', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * The compute backends by name, in a module with no imports so configuration can validate a name without
 * loading TensorFlow.js or ONNX Runtime (the bot never loads either).
 */

/** ONNX Runtime with one execution provider each: CPU, CUDA (NVIDIA), WebGPU (Vulkan, Metal, D3D12). */
export const ONNX_BACKENDS = ['onnx', 'onnx-cuda', 'onnx-webgpu'] as const;
export type OnnxBackend = (typeof ONNX_BACKENDS)[number];

export const TFJS_BACKENDS = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type TfjsBackend = (typeof TFJS_BACKENDS)[number];

/** Every backend name `createEvaluator` accepts, `auto` first. */
export const BACKENDS = ['auto', ...ONNX_BACKENDS, ...TFJS_BACKENDS] as const;
export type Backend = (typeof BACKENDS)[number];
export type ConcreteBackend = Exclude<Backend, 'auto'>;

/**
 * What `auto` tries, in order; each GPU backend only where it finds a real device. Native CUDA kernels
 * (cuDNN convolutions) come before WebGPU's generated shaders; TensorFlow's CUDA 11 build is a route for
 * hosts that have that stack but not ONNX Runtime's CUDA 12 libraries. `tensorflow` (tfjs-node on the CPU)
 * is slower than `onnx` and never tried.
 */
export const AUTO_ORDER = [
  'onnx-cuda',
  'tensorflow-gpu',
  'onnx-webgpu',
  'onnx',
  'wasm',
  'cpu',
] as const satisfies readonly ConcreteBackend[];

export const isOnnxBackend = (backend: string): backend is OnnxBackend =>
  (ONNX_BACKENDS as readonly string[]).includes(backend);

/** Why a backend was not used: its package or libraries are absent, it found no device, or it failed. */
export type UnavailableCode =
  | 'not-installed'
  | 'no-device'
  | 'software-adapter'
  | 'no-gpu-visible'
  | 'failed';

/** A backend that cannot run here, with a sentence for the operator. */
export class BackendUnavailable extends Error {
  constructor(
    readonly code: UnavailableCode,
    message: string,
  ) {
    super(message);
    this.name = 'BackendUnavailable';
  }
}

/** An error's first line: runtimes' messages go on with stack frames and source locations. */
export function errorLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // ONNX Runtime's messages start with the source file and line of the check that failed.
  return message
    .split('\n')[0]!
    .replace(/^\/onnxruntime_src\/\S+ /, '')
    .trim();
}

/**
 * The compute backends by name, in a module with no imports so configuration can validate a name without
 * loading TensorFlow.js or ONNX Runtime (the bot never loads either).
 */
export const TFJS_BACKENDS = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type TfjsBackend = (typeof TFJS_BACKENDS)[number];

/** Every backend name `createEvaluator` accepts, `auto` first. */
export const BACKENDS = ['auto', 'onnx', ...TFJS_BACKENDS] as const;
export type Backend = (typeof BACKENDS)[number];

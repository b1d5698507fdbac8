import { createRequire } from 'node:module';
import { BackendUnavailable, errorLine, type TfjsBackend } from '../backends.ts';

// The union package, not tfjs-core alone: only its bundle registers the gradients autodiff needs.
export type Tf = typeof import('@tensorflow/tfjs');

/**
 * Makes one TensorFlow.js backend current and returns the tfjs namespace (the shared tfjs-core, into which the
 * bindings register) and the device it runs on. The native bindings (`@tensorflow/tfjs-node[-gpu]`) are
 * optional dependencies whose install downloads libtensorflow, so they are often absent: their absence is found
 * before TensorFlow.js itself loads (seconds, tens of MB), so that `auto` passing over `tensorflow-gpu` costs
 * nothing. A GPU build of TensorFlow that finds no GPU runs on the CPU, slower than `onnx`: `tensorflow-gpu`
 * then refuses to start. Throws BackendUnavailable with the reason.
 */
export async function useTfjsBackend(backend: TfjsBackend): Promise<{ tf: Tf; device: string }> {
  if (backend === 'tensorflow-gpu' || backend === 'tensorflow') {
    const pkg = backend === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
    if (!installed(pkg))
      throw new BackendUnavailable(
        'not-installed',
        `${pkg} is not installed (its install downloads libtensorflow)`,
      );
    const tf = await import('@tensorflow/tfjs');
    try {
      await import(pkg);
    } catch (error) {
      throw new BackendUnavailable('failed', `${pkg} did not load (${errorLine(error)})`);
    }
    // Both bindings register a backend named "tensorflow".
    if (!(await tf.setBackend('tensorflow'))) throw new BackendUnavailable('failed', `${pkg} did not start`);
    await tf.ready();
    // tfjs-node's kernel backend reports whether TensorFlow placed its kernels on a GPU.
    const onGpu = (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
    if (backend === 'tensorflow-gpu' && !onGpu) {
      throw new BackendUnavailable(
        'no-gpu-visible',
        `${pkg} loaded but TensorFlow sees no GPU (it needs CUDA 11.8 and cuDNN 8; without them it runs on the CPU)`,
      );
    }
    return { tf, device: onGpu ? 'CUDA GPU (TensorFlow)' : 'CPU (TensorFlow)' };
  }
  const tf = await import('@tensorflow/tfjs');
  if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend(backend)))
    throw new BackendUnavailable('failed', `the ${backend} backend did not start`);
  await tf.ready();
  return { tf, device: backend === 'wasm' ? 'CPU (WebAssembly)' : 'CPU (JavaScript)' };
}

/** Whether a package resolves from here (both bindings are CommonJS packages with a `main`). */
function installed(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

// The union package, not tfjs-core alone: only its bundle registers the gradients autodiff needs.
import * as tf from '@tensorflow/tfjs';
import { BackendUnavailable, errorLine, type TfjsBackend } from '../backends.ts';

export type Tf = typeof tf;

/**
 * Makes one TensorFlow.js backend current and returns the tfjs namespace (the shared tfjs-core, into which the
 * bindings register) and the device it runs on. The native bindings (`@tensorflow/tfjs-node[-gpu]`) are
 * optional dependencies whose install downloads libtensorflow, so they are often absent. A GPU build of
 * TensorFlow that finds no GPU runs on the CPU, slower than `onnx`: `tensorflow-gpu` then refuses to start.
 * Throws BackendUnavailable with the reason.
 */
export async function useTfjsBackend(backend: TfjsBackend): Promise<{ tf: Tf; device: string }> {
  if (backend === 'tensorflow-gpu' || backend === 'tensorflow') {
    const pkg = backend === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
    try {
      await import(pkg);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')
        throw new BackendUnavailable(
          'not-installed',
          `${pkg} is not installed (its install downloads libtensorflow)`,
        );
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
  if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend(backend)))
    throw new BackendUnavailable('failed', `the ${backend} backend did not start`);
  await tf.ready();
  return { tf, device: backend === 'wasm' ? 'CPU (WebAssembly)' : 'CPU (JavaScript)' };
}

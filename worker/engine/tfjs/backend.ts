// The union package, not tfjs-core alone: only its bundle registers the gradients autodiff needs.
import * as tf from '@tensorflow/tfjs';
import { TFJS_BACKENDS, type TfjsBackend } from '../backends.ts';

export type Tf = typeof tf;

/**
 * Makes one TensorFlow.js backend current. The native bindings (`@tensorflow/tfjs-node[-gpu]`) are optional
 * dependencies whose install downloads libtensorflow, so they are often absent: `auto` takes the first that
 * loads. Returns the tfjs namespace (the shared tfjs-core, into which the bindings register) and the name.
 */
export async function useTfjsBackend(
  requested: TfjsBackend | 'auto',
): Promise<{ tf: Tf; backend: TfjsBackend }> {
  const candidates = requested === 'auto' ? TFJS_BACKENDS : [requested];
  const failures: string[] = [];
  for (const backend of candidates) {
    try {
      await activate(backend);
      return { tf, backend };
    } catch (error) {
      failures.push(`${backend}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could start (${failures.join('; ')})`);
}

/** Whether a backend can be used here, without switching to it. */
export async function tfjsBackendAvailable(backend: TfjsBackend): Promise<boolean> {
  const current = tf.getBackend();
  try {
    await activate(backend);
    return true;
  } catch {
    return false;
  } finally {
    if (current) await tf.setBackend(current);
  }
}

async function activate(backend: TfjsBackend): Promise<void> {
  if (backend === 'tensorflow-gpu' || backend === 'tensorflow') {
    const pkg = backend === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
    // Both register a backend named "tensorflow"; a GPU one is only useful if it actually sees a GPU.
    await import(pkg);
    if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} did not start`);
  } else {
    if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend(backend))) throw new Error(`${backend} backend did not start`);
  }
  await tf.ready();
}

import { readFile } from 'node:fs/promises';

/** The kernels of lbfgs.wat, as WebAssembly exports them (addresses and lengths in bytes). */
interface Kernels {
  pairDots(s: number, y: number, g: number, v: number, bytes: number): [number, number, number, number];
  addPair(a: number, s: number, b: number, y: number, keep: number, out: number, bytes: number): void;
  dot(a: number, b: number, bytes: number): number;
}

const PAGE = 65536;
const MAX_PAGES = 65536;

let compiled: Promise<WebAssembly.Module> | undefined;

/**
 * lbfgs.wasm, compiled once per process. It is lbfgs.wat assembled ahead of time (scripts/assemble-kernels.js:
 * `npm run generate` beside the sources, `npm run build` into dist/), so no assembler loads at run time.
 */
function kernelsModule(): Promise<WebAssembly.Module> {
  compiled ??= readFile(new URL('lbfgs.wasm', import.meta.url)).then(
    (binary) => WebAssembly.compile(binary),
    (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
      throw new Error('engine/lbfgs.wasm is missing: run `npm run generate` to assemble it from lbfgs.wat');
    },
  );
  return compiled;
}

/**
 * `count` vectors of n float32 values in one WebAssembly memory, which JavaScript reads and writes through
 * `vector(i)` and the SIMD kernels of lbfgs.wat read directly: the optimiser's passes over its history run
 * about six times faster than the same loops in JavaScript. Each vector is padded with zeros to a multiple
 * of four values, which no sum or product sees.
 */
export class VectorMemory {
  readonly #kernels: Kernels;
  readonly #views: Float32Array[];
  readonly #stride: number;

  private constructor(kernels: Kernels, memory: WebAssembly.Memory, n: number, count: number) {
    this.#kernels = kernels;
    this.#stride = Math.ceil(n / 4) * 4 * 4;
    this.#views = Array.from(
      { length: count },
      (_, i) => new Float32Array(memory.buffer, i * this.#stride, n),
    );
  }

  /** How many vectors of n values fit in one WebAssembly memory (4 GiB). */
  static capacity(n: number): number {
    return Math.floor((MAX_PAGES * PAGE) / (Math.ceil(n / 4) * 16));
  }

  static async create(n: number, count: number): Promise<VectorMemory> {
    if (count > VectorMemory.capacity(n))
      throw new RangeError(`${count} vectors of ${n} values do not fit in a WebAssembly memory`);
    const pages = Math.ceil((count * Math.ceil(n / 4) * 16) / PAGE);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    // Touch every page now: a first write to a fresh page costs a page fault (several µs on a VM), which
    // would otherwise land on the first iterations that fill the history.
    new Uint8Array(memory.buffer).fill(0);
    const instance = await WebAssembly.instantiate(await kernelsModule(), { env: { memory } });
    return new VectorMemory(instance.exports as unknown as Kernels, memory, n, count);
  }

  vector(i: number): Float32Array {
    return this.#views[i]!;
  }

  /** [s·g, y·g, s·v, y·v] of four vectors, in one pass. */
  pairDots(s: number, y: number, g: number, v: number): [number, number, number, number] {
    const at = this.#stride;
    return this.#kernels.pairDots(s * at, y * at, g * at, v * at, at);
  }

  /** out = a·s + b·y, plus out itself when `add`. */
  addPair(a: number, s: number, b: number, y: number, out: number, add: boolean): void {
    const at = this.#stride;
    this.#kernels.addPair(a, s * at, b, y * at, add ? 1 : 0, out * at, at);
  }

  dot(a: number, b: number): number {
    return this.#kernels.dot(a * this.#stride, b * this.#stride, this.#stride);
  }
}

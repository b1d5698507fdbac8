import type { ConcreteBackend } from './backends.ts';
import { deepestLayer, type LayerSet, type LayerSetName, poolsBefore } from './vgg.ts';

/**
 * How much memory painting one image takes, estimated before anything is allocated, so that a size that will not
 * fit is refused with the reason rather than killed by the kernel part-way. The cost is linear in the result's
 * pixels: every layer's activations and their gradients, the L-BFGS history and the images all scale with them.
 *
 * Measured with `npx tsx bench/memory.ts` (Node.js 20, 2 cores; peak resident set of a fresh process painting a
 * square at the driver's default scales, 12 L-BFGS iterations per scale so that its history is full), least
 * squares of peak on megapixels of the result:
 *
 *   onnx (ONNX Runtime's CPU provider):
 *     shallow: 243 MiB + 6265 MiB per megapixel (128, 256, 384, 512 and 768 px, VGG-19-shaped random weights;
 *              largest residual 9 MiB; at 1024 px 6629 MiB, the line 6812)
 *     paper:   594 MiB + 6553 MiB per megapixel (`--layers paper --sizes 256,512,1024` on the real VGG-19,
 *              ../shared/assets/vgg19-conv1-5: 1045, 2285 and 7471 MiB, the line 1024, 2312 and 7465; largest
 *              residual 27 MiB, 2.1% of the peak at 256 px, well inside the 10% the worker and the CLI keep
 *              free, so a size the estimate refuses would not have fitted)
 *   wasm (TensorFlow.js on WebAssembly), 64, 128 and 192 px only (192 px takes two minutes there):
 *     shallow: 230 MiB + 8672 MiB per megapixel (largest residual 3 MiB)
 *     paper:   439 MiB + 9492 MiB per megapixel (largest residual 4 MiB)
 *
 * The blocks 1-2 activations (64 and 128 channels at full and half resolution) and their gradients dominate, so
 * the paper's layers cost barely more per pixel than the shallow ones; their base adds blocks 4-5's weights
 * and graphs. A custom layer set is counted as the measured set of its deepest block (blocks 1-3: shallow).
 *
 * Only the CPU backends' memory is the process's own: the GPU providers keep activations on the device, whose
 * memory this does not measure, and the other TensorFlow.js backends were not measured; those have no estimate.
 */
interface PeakFit {
  baseMiB: number;
  perMegapixelMiB: number;
}

const MEASURED: Partial<Record<ConcreteBackend, Record<LayerSetName, PeakFit>>> = {
  onnx: {
    shallow: { baseMiB: 243, perMegapixelMiB: 6265 },
    paper: { baseMiB: 594, perMegapixelMiB: 6553 },
  },
  wasm: {
    shallow: { baseMiB: 230, perMegapixelMiB: 8672 },
    paper: { baseMiB: 439, perMegapixelMiB: 9492 },
  },
};

const MIB = 1024 * 1024;

export interface MemoryRequest {
  layers: LayerSet;
  backend: ConcreteBackend;
  /** Paintings at once in one process (a worker's concurrency): they share the runtime and the weights. */
  jobs?: number | undefined;
}

/** The measured line for this backend and layer set, or undefined where none was measured. */
function fitFor({ layers, backend }: MemoryRequest): PeakFit | undefined {
  const deepest = deepestLayer([...layers.style, ...layers.content]);
  return MEASURED[backend]?.[poolsBefore(deepest) <= 2 ? 'shallow' : 'paper'];
}

/**
 * Peak bytes of painting a `width` × `height` result (the final scale; the coarser ones cost less), or undefined
 * where this backend's memory was not measured.
 */
export function estimatePeakBytes(width: number, height: number, request: MemoryRequest): number | undefined {
  const fit = fitFor(request);
  if (!fit) return undefined;
  const megapixels = (width * height) / 1e6;
  return (fit.baseMiB + (request.jobs ?? 1) * fit.perMegapixelMiB * megapixels) * MIB;
}

/**
 * The largest result (longer side, px) whose painting fits in `budgetBytes`, for an image of aspect `aspect`
 * (shorter side / longer side, 1 for a square: the most pixels a size can have); undefined where this backend's
 * memory was not measured, 0 where not even the runtime fits.
 */
export function largestSide(budgetBytes: number, request: MemoryRequest, aspect = 1): number | undefined {
  const fit = fitFor(request);
  if (!fit) return undefined;
  const megapixels = (budgetBytes / MIB - fit.baseMiB) / ((request.jobs ?? 1) * fit.perMegapixelMiB);
  return megapixels <= 0 ? 0 : Math.floor(Math.sqrt((megapixels * 1e6) / aspect));
}

/** Bytes in the units people read: "6.1 GiB", "512 MiB". */
export function formatBytes(bytes: number): string {
  return bytes >= 1024 * MIB ? `${(bytes / (1024 * MIB)).toFixed(1)} GiB` : `${Math.round(bytes / MIB)} MiB`;
}

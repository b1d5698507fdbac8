import { fitSize } from '../engine/image.ts';
import { estimatePeakBytes, formatBytes, largestSide, type MemoryRequest } from '../engine/memory.ts';
import { checkShape } from '../engine/shape.ts';
import { LAYER_SETS, type LayerSet, resolveLayers, usableLayerSets } from '../engine/vgg.ts';
import { MEMORY_SHARE, resolveLayersSetting } from '../worker/capability.ts';

/**
 * What `stylize` checks before it allocates anything for a painting, each refusal one line that says what to do:
 * the layers (a name or `auto`, resolved against the weights as a worker does), the memory the painting will
 * need (engine/memory.ts) against what is available, and the shapes of the photo and the paintings
 * (engine/shape.ts).
 */

/** Largest `--size`, for the suggestions. */
const MAX_SIZE = 4096;

/**
 * The layer set of `--layers` (or STYLIZE_LAYERS): `auto` is the paper's where the weights hold blocks 4-5, else
 * the shallow ones with a `warn`ing; a named set the weights lack is refused, saying why. A custom
 * `style=…;content=…` is taken as it is (its layers are checked when the weights load).
 */
export async function cliLayers(spec: string, weightsDir: string, warn: (line: string) => void) {
  if (spec !== 'auto' && !(spec in LAYER_SETS)) return resolveLayers(spec);
  const resolution = resolveLayersSetting(
    spec as keyof typeof LAYER_SETS | 'auto',
    await usableLayerSets(weightsDir),
    weightsDir,
    { name: '--layers or STYLIZE_LAYERS', shallow: 'use --layers shallow' },
  );
  if (!resolution.layers) throw new Error(resolution.problem);
  if (resolution.warning) warn(resolution.warning);
  return resolveLayers(resolution.layers);
}

/**
 * Refuses a painting of a `width` × `height` result that would need more memory than MEMORY_SHARE of what is
 * `available` (bytes; default: what the system has free for this process), with the estimate and the largest
 * size that fits. Backends whose memory was not measured are not refused.
 */
export function requireMemory(
  width: number,
  height: number,
  request: MemoryRequest,
  available = process.availableMemory(),
): void {
  const estimate = estimatePeakBytes(width, height, request);
  const budget = MEMORY_SHARE * available;
  if (estimate === undefined || estimate <= budget) return;
  const largest = largestSide(budget, request, Math.min(width, height) / Math.max(width, height)) ?? 0;
  throw new Error(
    `a ${width}x${height} painting needs about ${formatBytes(estimate)} of memory on ${request.backend}, and ` +
      `${formatBytes(available)} is available: ` +
      (largest >= 16 ? `use --size ${largest} or less` : 'free some memory first'),
  );
}

/**
 * Refuses an image too long and narrow to paint at `size` (its shorter side would vanish at the deepest layer of
 * the smallest scale), saying how far to crop it or which size would do. `width` × `height` are the file's own;
 * `relative`: the image's size relative to the result (a style image's `--style-scale`).
 */
export function requireShape(
  name: string,
  width: number,
  height: number,
  at: { size: number; scales?: number | undefined; relative?: number; layers: LayerSet },
): void {
  const check = (size: number) => {
    const decoded = fitSize(width, height, Math.round(size * (at.relative ?? 1)));
    return checkShape(decoded.width, decoded.height, size, at.layers, at);
  };
  const result = check(at.size);
  if (result.ok) return;
  let larger: number | undefined;
  for (let size = at.size + 1; size <= MAX_SIZE && larger === undefined; size++) {
    if (check(size).ok) larger = size;
  }
  const ratio = Math.round(Math.max(width, height) / Math.min(width, height));
  throw new Error(
    `${name} is too long and narrow to paint (${width}x${height}, about ${ratio}:1): at --size ${at.size} these ` +
      `layers paint shapes up to about ${result.maxAspect}:1; crop it` +
      (larger === undefined ? '' : `, or use --size ${larger} or more`),
  );
}

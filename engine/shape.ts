import { fitSize } from './image.ts';
import { scaleSizes } from './schedule.ts';
import { deepestLayer, type LayerSet, poolsBefore } from './vgg.ts';

/**
 * Whether an image's shape can be painted at a size. Each 2×2 pooling halves a feature map (flooring odd
 * sides), so the deepest layer a set uses sees the image's shorter side divided by 2^pools; below one position
 * it sees nothing and the painting cannot start. The coarse-to-fine driver (stylize.ts) paints the smallest scale
 * first, so that scale's shorter side decides: long, thin images (a screenshot of a whole page) fail there first.
 */
export interface ShapeCheck {
  ok: boolean;
  /** The image's shorter side at the driver's smallest scale, px. */
  shortSide: number;
  /** The least it may be: 2^(poolings before the deepest layer). */
  needed: number;
  /** The longest aspect (longer side / shorter side) this size can paint. */
  maxAspect: number;
}

/** The shorter side, in pixels, an image must keep at the smallest scale for the deepest of `layers`. */
export function minimumSide(layers: LayerSet): number {
  return 2 ** poolsBefore(deepestLayer([...layers.style, ...layers.content]));
}

/**
 * Checks an image of `width` × `height` painted at `size` (longer side of the result, px). `relative` is the
 * image's longer side relative to the result's (a style image's `styleScale`; 1 for the photo), with a floor of
 * `minSide` px as the driver applies to style images.
 */
export function checkShape(
  width: number,
  height: number,
  size: number,
  layers: LayerSet,
  opts: { scales?: number | undefined; relative?: number; minSide?: number } = {},
): ShapeCheck {
  const smallest = scaleSizes(size, opts.scales)[0]!;
  const side = Math.max(opts.minSide ?? 1, Math.round(smallest * (opts.relative ?? 1)));
  const fitted = fitSize(width, height, side);
  const shortSide = Math.min(fitted.width, fitted.height);
  const needed = minimumSide(layers);
  return { ok: shortSide >= needed, shortSide, needed, maxAspect: Math.floor(side / needed) };
}

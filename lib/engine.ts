/**
 * The engine as the bot's side sees it: images as arrays, the named layer sets, and whether a shape can be
 * painted. The one module of the bot's side that reaches into engine/. Types come from the engine's public
 * index; the values from the modules that hold them, because the index also holds the optimisation and the
 * compute backends' start, which the bot never runs (its image has no ML runtime: Dockerfile, bot-deps).
 */
import type { LAYER_SETS } from '../engine/index.ts';

export { fitSize, resize, rgbImage } from '../engine/image.ts';
export type { RgbImage } from '../engine/index.ts';
export { checkShape } from '../engine/shape.ts';
export { LAYER_SETS } from '../engine/vgg.ts';

/** The engine's named layer sets (`paper`, `shallow`). */
export type LayerSetName = keyof typeof LAYER_SETS;

import { checkShape, fitSize, LAYER_SETS } from '../lib/engine.ts';
import { UserError } from './errors.ts';
import type { LayerSetName } from './workers.ts';

/** Whose image it is, for the sentence: the member's photo or style image, or a preset painting by its label. */
export type ImageSubject = { kind: 'photo' } | { kind: 'style' } | { kind: 'preset'; label: string };

/**
 * Refuses, with a sentence that says what to do, an image too long and narrow to paint at `size` with `layers`:
 * the deepest layer must still see it at the coarse-to-fine driver's smallest scale (engine/shape.ts).
 * `width` × `height` are the image's own pixels; `maxSize` the largest size the member may ask for, to suggest
 * one where a larger size would do. Nothing is decoded: a header's size is enough.
 */
export function requirePaintableShape(
  image: { width: number; height: number },
  subject: ImageSubject,
  at: { size: number; layers: LayerSetName; maxSize: number },
): void {
  const layers = LAYER_SETS[at.layers];
  const set = { style: [...layers.style], content: [...layers.content] };
  // The photo is painted at the size of the result and the style images no larger, each scale fitted.
  const check = (size: number) => {
    const decoded = fitSize(image.width, image.height, size);
    return checkShape(decoded.width, decoded.height, size, set);
  };
  const result = check(at.size);
  if (result.ok) return;
  const long = Math.max(image.width, image.height);
  const short = Math.min(image.width, image.height);
  const shape = `${image.width}×${image.height} pixels, about ${Math.round(long / short)}:1`;
  let larger: number | undefined;
  for (let size = at.size + 1; size <= at.maxSize && larger === undefined; size++) {
    if (check(size).ok) larger = size;
  }
  const what =
    subject.kind === 'photo'
      ? 'Your photo'
      : subject.kind === 'style'
        ? 'Your style image'
        : `The painting ${subject.label}`;
  const fix =
    subject.kind === 'preset'
      ? 'Choose another painting'
      : `Crop it to at most ${result.maxAspect}:1 and send it again`;
  throw new UserError(
    'invalid-input',
    `${what} is too long and narrow for me to paint (${shape}): at ${at.size} px I can paint shapes up to ` +
      `about ${result.maxAspect}:1. ${fix}${larger === undefined ? '' : `, or ask for a size of ${larger} px or more`}.`,
  );
}

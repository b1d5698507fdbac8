import sharp from 'sharp';
import { type RgbImage, resize } from '../engine.ts';
import { encodeAs, type OutputFormat, rawPipeline } from './encode.ts';
import { BACKGROUND, label } from './labels.ts';

export interface Panel {
  readonly image: RgbImage;
  readonly label: string;
}

export interface ComposeOptions {
  /** Height every panel is scaled to (default: the last panel's, i.e. the result's, own height). */
  readonly height?: number;
  /** Default 'png'. */
  readonly format?: OutputFormat;
}

/** Where everything goes in a comparison image: panels left to right, a label strip beneath them. */
export interface ComparisonLayout {
  readonly width: number;
  readonly height: number;
  readonly panelHeight: number;
  readonly gap: number;
  readonly labelHeight: number;
  readonly fontSize: number;
  readonly panels: readonly { readonly left: number; readonly width: number }[];
}

/**
 * Lays panels of the given sizes side by side at `panelHeight`. Gap and label strip grow with the height
 * so the labels stay readable on large results and do not dominate small ones.
 */
export function comparisonLayout(
  sizes: readonly { width: number; height: number }[],
  panelHeight: number,
): ComparisonLayout {
  const gap = Math.max(4, Math.round(panelHeight * 0.03));
  const labelHeight = Math.max(20, Math.round(panelHeight * 0.08));
  const panels: { left: number; width: number }[] = [];
  let left = 0;
  for (const size of sizes) {
    const width = Math.max(1, Math.round((size.width * panelHeight) / size.height));
    panels.push({ left, width });
    left += width + gap;
  }
  return {
    width: left - gap,
    height: panelHeight + labelHeight,
    panelHeight,
    gap,
    labelHeight,
    fontSize: Math.round(labelHeight * 0.55),
    panels,
  };
}

/** The "content | style | result" comparison image posted next to a result, each panel labelled underneath. */
export async function sideBySide(panels: readonly Panel[], opts: ComposeOptions = {}): Promise<Buffer> {
  const last = panels.at(-1);
  if (!last) throw new Error('sideBySide needs at least one panel');
  const panelHeight = Math.max(1, Math.round(opts.height ?? last.image.height));
  const layout = comparisonLayout(
    panels.map((panel) => panel.image),
    panelHeight,
  );
  const scaled = await Promise.all(
    panels.map((panel, i) =>
      rawPipeline(panel.image)
        .resize(layout.panels[i]!.width, panelHeight, { fit: 'fill', kernel: 'lanczos3' })
        .raw()
        .toBuffer(),
    ),
  );
  // Each label centred under its panel and kept within the panel's width.
  const labels = await Promise.all(
    layout.panels.map(({ left, width }, i) =>
      label(
        panels[i]!.label,
        { left, top: panelHeight, width, height: layout.labelHeight },
        layout.fontSize,
        0.92,
      ),
    ),
  );
  const canvas = sharp({
    create: { width: layout.width, height: layout.height, channels: 3, background: BACKGROUND },
  })
    .composite([
      ...scaled.map((pixels, i) => ({
        input: pixels,
        raw: { width: layout.panels[i]!.width, height: panelHeight, channels: 3 as const },
        left: layout.panels[i]!.left,
        top: 0,
      })),
      ...labels.flat(),
    ])
    // Compositing always leaves an alpha channel, opaque everywhere here; drop it so the file is plain RGB.
    .removeAlpha();
  return encodeAs(canvas, opts.format ?? 'png').toBuffer();
}

/** The comparison every job ends with: the photo, the painting(s) and the result, at the result's height. */
export function comparison(
  photo: RgbImage,
  styles: readonly { image: RgbImage; name: string }[],
  result: RgbImage,
  format: OutputFormat,
): Promise<Buffer> {
  return sideBySide(
    [
      { image: resize(photo, result.width, result.height), label: 'photo' },
      ...styles.map((s) => ({ image: s.image, label: `style: ${s.name}` })),
      { image: result, label: 'result' },
    ],
    { format },
  );
}

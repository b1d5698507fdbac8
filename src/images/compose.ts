import sharp from 'sharp';
import type { RgbImage } from '../../worker/engine/image.ts';
import { encodeAs, type OutputFormat, rawPipeline } from './encode.ts';

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

const BACKGROUND = '#ffffff';
const TEXT_COLOUR = '#222222';
const FONT_FAMILY = 'DejaVu Sans, sans-serif';
/** DejaVu Sans glyphs average about this many ems wide; used to shrink labels that would not fit. */
const AVERAGE_GLYPH_EMS = 0.6;
const MIN_FONT_SIZE = 8;

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
      { input: Buffer.from(labelStrip(layout, panels)), left: 0, top: panelHeight },
    ])
    // Compositing always leaves an alpha channel, opaque everywhere here; drop it so the file is plain RGB.
    .removeAlpha();
  return encodeAs(canvas, opts.format ?? 'png').toBuffer();
}

/** An SVG of the label strip: each label centred under its panel and clipped to the panel's width. */
function labelStrip(layout: ComparisonLayout, panels: readonly Panel[]): string {
  const labels = layout.panels.map(({ left, width }, i) => {
    const room = (width * 0.92) / AVERAGE_GLYPH_EMS; // label length × font size that fits the panel
    // Shrink a label that would overflow its panel, and past the smallest readable size cut it short;
    // the nested <svg> clips whatever the width estimate still gets wrong.
    const label = truncate(panels[i]!.label, Math.floor(room / MIN_FONT_SIZE));
    const fontSize = Math.max(
      MIN_FONT_SIZE,
      Math.min(layout.fontSize, Math.floor(room / Math.max(1, label.length))),
    );
    return (
      `<svg x="${left}" y="0" width="${width}" height="${layout.labelHeight}">` +
      `<text x="${width / 2}" y="${layout.labelHeight / 2}" text-anchor="middle" dominant-baseline="central" ` +
      `font-family="${FONT_FAMILY}" font-size="${fontSize}" fill="${TEXT_COLOUR}">${escapeXml(label)}</text></svg>`
    );
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.labelHeight}">` +
    `${labels.join('')}</svg>`
  );
}

function truncate(text: string, maxLength: number): string {
  const chars = Array.from(text); // by code point, so an emoji is never cut in half
  return chars.length <= maxLength ? text : `${chars.slice(0, Math.max(0, maxLength - 1)).join('')}…`;
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

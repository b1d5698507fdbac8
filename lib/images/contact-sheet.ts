import sharp from 'sharp';
import type { RgbImage } from '../engine.ts';
import { encodeAs, type OutputFormat, rawPipeline } from './encode.ts';
import { BACKGROUND, label } from './labels.ts';

export interface ContactSheetItem {
  readonly image: RgbImage;
  readonly label: string;
}

export interface ContactSheetOptions {
  /** Thumbnails per row (default: up to 4, fewer when there are fewer items). */
  readonly columns?: number;
  /** Side of the square each thumbnail is fitted into, in pixels (default 160). */
  readonly cellSize?: number;
  /** Default 'png'. */
  readonly format?: OutputFormat;
}

/** Where everything goes on a contact sheet: cells left to right, top to bottom, each with a label beneath. */
export interface ContactSheetLayout {
  readonly width: number;
  readonly height: number;
  readonly columns: number;
  readonly rows: number;
  readonly cellSize: number;
  readonly gap: number;
  readonly labelHeight: number;
  readonly fontSize: number;
  /** Top-left corner of each item's square. */
  readonly cells: readonly { readonly left: number; readonly top: number }[];
}

const MAX_ITEMS = 100;

export function contactSheetLayout(count: number, opts: ContactSheetOptions = {}): ContactSheetLayout {
  const cellSize = Math.max(16, Math.round(opts.cellSize ?? 160));
  const columns = Math.max(1, Math.min(count, Math.round(opts.columns ?? 4)));
  const rows = Math.max(1, Math.ceil(count / columns));
  const gap = Math.max(4, Math.round(cellSize * 0.06));
  const labelHeight = Math.max(18, Math.round(cellSize * 0.16));
  const cells = Array.from({ length: count }, (_, i) => ({
    left: gap + (i % columns) * (cellSize + gap),
    top: gap + Math.floor(i / columns) * (cellSize + labelHeight + gap),
  }));
  return {
    width: gap + columns * (cellSize + gap),
    height: gap + rows * (cellSize + labelHeight + gap),
    columns,
    rows,
    cellSize,
    gap,
    labelHeight,
    fontSize: Math.round(labelHeight * 0.6),
    cells,
  };
}

/**
 * A grid of labelled thumbnails (the preset catalogue): each image fitted into a square cell, centred, with its
 * label underneath, on a white sheet.
 */
export async function contactSheet(
  items: readonly ContactSheetItem[],
  opts: ContactSheetOptions = {},
): Promise<Buffer> {
  if (items.length === 0) throw new Error('contactSheet needs at least one item');
  if (items.length > MAX_ITEMS) throw new Error(`contactSheet takes at most ${MAX_ITEMS} items`);
  const layout = contactSheetLayout(items.length, opts);
  const { cellSize } = layout;
  const thumbnails = await Promise.all(
    items.map((item) =>
      rawPipeline(item.image)
        .resize(cellSize, cellSize, { fit: 'inside', kernel: 'lanczos3' })
        .raw()
        .toBuffer({ resolveWithObject: true }),
    ),
  );
  // Each label centred under its cell, shrunk or cut to fit its width.
  const labels = await Promise.all(
    layout.cells.map(({ left, top }, i) =>
      label(
        items[i]!.label,
        { left, top: top + cellSize, width: cellSize, height: layout.labelHeight },
        layout.fontSize,
        0.95,
      ),
    ),
  );
  const canvas = sharp({
    create: { width: layout.width, height: layout.height, channels: 3, background: BACKGROUND },
  })
    .composite([
      ...thumbnails.map(({ data, info }, i) => ({
        input: data,
        raw: { width: info.width, height: info.height, channels: 3 as const },
        left: layout.cells[i]!.left + Math.floor((cellSize - info.width) / 2),
        top: layout.cells[i]!.top + Math.floor((cellSize - info.height) / 2),
      })),
      ...labels.flat(),
    ])
    .removeAlpha();
  return encodeAs(canvas, opts.format ?? 'png').toBuffer();
}

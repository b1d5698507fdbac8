/**
 * Text under images (the comparison's panels, the contact sheet's cells), rendered by sharp's text input (Pango),
 * which measures the real glyphs: given a box, it picks the resolution at which the text fits it.
 */
import sharp, { type OverlayOptions } from 'sharp';

export const BACKGROUND = '#ffffff';
const TEXT_COLOUR = '#222222';
/** Pango's default size is 12 pt, so at `dpi` a line is 12 · dpi / 72 = dpi / 6 px high. */
const FONT = 'DejaVu Sans';
const DPI_PER_PX = 6;
const MIN_FONT_SIZE = 8;

/**
 * One label centred in a box, as overlays for sharp's composite (none for an empty label): at most
 * `maxFontSize` px, shrunk to fit `fill` of the box's width, and past `MIN_FONT_SIZE` cut short with "…".
 */
export async function label(
  text: string,
  box: { left: number; top: number; width: number; height: number },
  maxFontSize: number,
  fill: number,
): Promise<OverlayOptions[]> {
  if (text.trim() === '') return [];
  const width = Math.max(1, Math.floor(box.width * fill));
  // Most labels fit at the largest size; a longer one is fitted to the width by sharp, and past the smallest
  // readable size shortened instead.
  let drawn = await render(text, { dpi: maxFontSize * DPI_PER_PX });
  if (drawn.info.width > width) drawn = await render(text, { width, height: box.height });
  if ((drawn.info.textAutofitDpi ?? Number.POSITIVE_INFINITY) < MIN_FONT_SIZE * DPI_PER_PX) {
    drawn = await shortened(text, width, MIN_FONT_SIZE * DPI_PER_PX);
  }
  const { data, info } = drawn;
  return [
    {
      input: data,
      left: box.left + Math.max(0, Math.floor((box.width - info.width) / 2)),
      top: box.top + Math.max(0, Math.floor((box.height - info.height) / 2)),
    },
  ];
}

/** The longest start of `text` that, with "…", fits `width` at `dpi` (widths scale with the characters kept). */
async function shortened(text: string, width: number, dpi: number) {
  const chars = Array.from(text); // by code point, so an emoji is never cut in half
  let keep = chars.length;
  for (;;) {
    const drawn = await render(`${chars.slice(0, keep).join('')}…`, { dpi });
    if (drawn.info.width <= width || keep <= 1) return drawn;
    keep = Math.min(keep - 1, Math.floor((keep * width) / drawn.info.width));
  }
}

function render(text: string, size: { width: number; height: number } | { dpi: number }) {
  return sharp({
    text: {
      text: `<span foreground="${TEXT_COLOUR}">${escapeMarkup(text)}</span>`,
      font: FONT,
      wrap: 'none',
      rgba: true,
      ...size,
    },
  })
    .png()
    .toBuffer({ resolveWithObject: true });
}

/** Pango markup is XML: the label is text, never markup. */
function escapeMarkup(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Text under images (the comparison's panels, the contact sheet's cells), drawn as SVG for sharp. */

export const BACKGROUND = '#ffffff';
const TEXT_COLOUR = '#222222';
const FONT_FAMILY = 'DejaVu Sans, sans-serif';
/** DejaVu Sans glyphs average about this many ems wide; used to shrink labels that would not fit. */
const AVERAGE_GLYPH_EMS = 0.6;
const MIN_FONT_SIZE = 8;

/**
 * One label centred in a box: shrunk if it would overflow the box's width (`fill` of it), cut short with "…"
 * past the smallest readable size; the nested <svg> clips whatever the width estimate still gets wrong.
 */
export function labelSvg(
  text: string,
  box: { left: number; top: number; width: number; height: number },
  maxFontSize: number,
  fill: number,
): string {
  const room = (box.width * fill) / AVERAGE_GLYPH_EMS; // label length × font size that fits the box
  const label = truncate(text, Math.floor(room / MIN_FONT_SIZE));
  const fontSize = Math.max(
    MIN_FONT_SIZE,
    Math.min(maxFontSize, Math.floor(room / Math.max(1, label.length))),
  );
  return (
    `<svg x="${box.left}" y="${box.top}" width="${box.width}" height="${box.height}">` +
    `<text x="${box.width / 2}" y="${box.height / 2}" text-anchor="middle" dominant-baseline="central" ` +
    `font-family="${FONT_FAMILY}" font-size="${fontSize}" fill="${TEXT_COLOUR}">${escapeXml(label)}</text></svg>`
  );
}

function truncate(text: string, maxLength: number): string {
  const chars = Array.from(text); // by code point, so an emoji is never cut in half
  return chars.length <= maxLength ? text : `${chars.slice(0, Math.max(0, maxLength - 1)).join('')}…`;
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

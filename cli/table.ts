/**
 * Rows under a header for people to read: each column as wide as its widest cell, two spaces apart, no trailing
 * spaces; one line each, each ending in a newline.
 */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `${cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()}\n`;
  return [header, ...rows].map(line).join('');
}

/**
 * `tsx scripts/bundle-presets.ts <dir>`: makes the bundled paintings (presets/bundled/) from reproductions in
 * `<dir>`, one per painting of presets/bundled/paintings.json, named by its `file`: each resized to at most
 * MAX_SIDE px on its longer side and saved as a JPEG small enough to keep in the repository (at most MAX_BYTES).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { BUNDLED_DIR, loadBundled } from '../presets/bundled.ts';

const MAX_SIDE = 640;
const MAX_BYTES = 200 * 1024;

const from = process.argv[2];
if (!from) {
  console.error('usage: tsx scripts/bundle-presets.ts <directory of the reproductions>');
  process.exit(1);
}
for (const painting of await loadBundled()) {
  // A high JPEG quality: these are style images, where the brush texture is what matters.
  const { data, info } = await sharp(join(from, painting.file))
    .rotate()
    .resize({ width: MAX_SIDE, height: MAX_SIDE, fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 88, mozjpeg: true })
    .toBuffer({ resolveWithObject: true });
  if (data.length > MAX_BYTES) {
    console.error(`${painting.file}: ${data.length} bytes, over the ${MAX_BYTES} bytes allowed`);
    process.exit(1);
  }
  await writeFile(join(BUNDLED_DIR, painting.file), data);
  console.log(`${painting.file}: ${info.width}x${info.height}, ${data.length} bytes`);
}

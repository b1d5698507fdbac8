import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomVggWeights } from '../engine/vgg.ts';

/**
 * A weights directory in the TensorFlow.js format the worker reads, with VGG-19-shaped random weights up to
 * `deepest` (channels scaled by `widthScale`: tiny, but every layer the paper's set needs is there).
 */
export async function writeRandomWeights(
  dir: string,
  deepest = 'conv5_1',
  widthScale = 1 / 16,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const manifest = [];
  let group = 0;
  for (const [layer, w] of randomVggWeights(deepest, 3, widthScale)) {
    const name = layer.replace(/^conv(\d)_(\d)$/, 'block$1_conv$2');
    const path = `group${++group}-shard1of1`;
    await writeFile(
      join(dir, path),
      Buffer.concat([Buffer.from(w.kernel.buffer), Buffer.from(w.bias.buffer)]),
    );
    manifest.push({
      paths: [path],
      weights: [
        { name: `${name}/kernel`, shape: [3, 3, w.inChannels, w.outChannels], dtype: 'float32' },
        { name: `${name}/bias`, shape: [w.outChannels], dtype: 'float32' },
      ],
    });
  }
  await writeFile(join(dir, 'weights_manifest.json'), JSON.stringify(manifest));
  return dir;
}

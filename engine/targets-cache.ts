import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import writeFileAtomic from 'write-file-atomic';
import type { Pooling, VggWeights } from './vgg.ts';

/**
 * Style Gram targets, kept between jobs: a preset's Gram matrices at a given style size depend only on the
 * painting, that size, the layers, the pooling and the network's weights, and computing them is a full VGG
 * forward pass per style and scale. Entries live in memory (least recently used dropped beyond `maxBytes`)
 * and, with a `dir`, on disk as `<key>.bin`, written atomically. The key includes a fingerprint of the weights
 * and pooling, so new weights simply miss (stale files are never read again).
 */
export interface TargetsCacheOptions {
  /** Identity of the network: see {@link weightsFingerprint}. */
  readonly fingerprint: string;
  /** Where entries are kept across processes, e.g. `$DATA_DIR/cache/targets`; none: memory only. */
  readonly dir?: string | undefined;
  /** Bytes of Gram matrices kept in memory (default 256 MB). */
  readonly maxBytes?: number | undefined;
}

export interface TargetsKey {
  /** Identity of the style image (e.g. the preset's name and the sha256 of its pixels). */
  readonly style: string;
  readonly width: number;
  readonly height: number;
  readonly layers: readonly string[];
}

export type StyleGrams = Map<string, Float32Array>;

const MAGIC = 'STGC';
const VERSION = 1;

export class TargetsCache {
  readonly #memory: LRUCache<string, StyleGrams>;
  readonly fingerprint: string;
  readonly dir: string | undefined;
  readonly maxBytes: number;
  /** Lookups answered from memory or disk, and not. */
  readonly stats = { hits: 0, diskHits: 0, misses: 0 };

  constructor(opts: TargetsCacheOptions) {
    this.fingerprint = opts.fingerprint;
    this.dir = opts.dir;
    this.maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
    // An entry larger than the whole budget is not kept (lru-cache's maxEntrySize defaults to maxSize).
    this.#memory = new LRUCache({
      maxSize: this.maxBytes,
      sizeCalculation: (grams) => Math.max(1, byteLength(grams)),
    });
  }

  key(k: TargetsKey): string {
    return createHash('sha256')
      .update(
        JSON.stringify({
          v: VERSION,
          weights: this.fingerprint,
          style: k.style,
          size: [k.width, k.height],
          layers: k.layers,
        }),
      )
      .digest('hex');
  }

  /** The Gram matrices stored under `key`, from memory or disk; undefined when there are none. */
  async get(key: string): Promise<StyleGrams | undefined> {
    const held = this.#memory.get(key);
    if (held) {
      this.stats.hits++;
      return held;
    }
    const grams = this.dir ? await readEntry(join(this.dir, `${key}.bin`), key) : undefined;
    if (!grams) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    this.stats.diskHits++;
    this.#memory.set(key, grams);
    return grams;
  }

  async set(key: string, grams: StyleGrams): Promise<void> {
    this.#memory.set(key, grams);
    if (!this.dir) return;
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(join(this.dir, `${key}.bin`), encodeEntry(key, grams));
  }
}

const byteLength = (grams: StyleGrams) => [...grams.values()].reduce((n, g) => n + g.byteLength, 0);

/**
 * Identity of a network: sha256 of the weights directory's manifest and recorded checksums (cheap: no shard
 * is read), or of the arrays themselves for weights held in memory, with the pooling.
 */
export async function weightsFingerprint(
  weights: string | VggWeights,
  pooling: Pooling = 'avg',
): Promise<string> {
  const hash = createHash('sha256').update(`pooling=${pooling}\n`);
  if (typeof weights === 'string') {
    let found = 0;
    for (const file of ['weights_manifest.json', 'model.json', 'checksums.json']) {
      const text = await readFile(join(weights, file)).catch(() => undefined);
      if (text) {
        found++;
        hash.update(`${file}\n`).update(text);
      }
    }
    if (found === 0) throw new Error(`${weights} has no weights manifest to fingerprint`);
  } else {
    for (const [layer, w] of [...weights].sort(([a], [b]) => (a < b ? -1 : 1))) {
      hash.update(`${layer}:${w.inChannels}x${w.outChannels}\n`);
      hash.update(new Uint8Array(w.kernel.buffer, w.kernel.byteOffset, w.kernel.byteLength));
      hash.update(new Uint8Array(w.bias.buffer, w.bias.byteOffset, w.bias.byteLength));
    }
  }
  return hash.digest('hex');
}

/** sha256 of an image's pixels: the identity of a style image for the cache. */
export function pixelsSha256(data: Float32Array | Uint8Array): string {
  return createHash('sha256')
    .update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    .digest('hex');
}

// File (little-endian): "STGC", u32 version, u32 header length, header JSON {key, layers: [[name, length]]}, float32 LE data.
function encodeEntry(key: string, grams: StyleGrams): Buffer {
  const header = Buffer.from(
    JSON.stringify({ key, layers: [...grams].map(([name, g]) => [name, g.length]) }),
  );
  const fixed = Buffer.alloc(12);
  fixed.write(MAGIC, 0, 'latin1');
  fixed.writeUInt32LE(VERSION, 4);
  fixed.writeUInt32LE(header.length, 8);
  // Float32Array bytes are the host's order: little-endian on every platform Node.js ships for.
  const data = [...grams.values()].map((g) => Buffer.from(g.buffer, g.byteOffset, g.byteLength));
  return Buffer.concat([fixed, header, ...data]);
}

async function readEntry(path: string, key: string): Promise<StyleGrams | undefined> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch {
    return undefined;
  }
  // A damaged or foreign file is a miss (it is overwritten by the next store), never an error.
  try {
    if (buf.toString('latin1', 0, 4) !== MAGIC || buf.readUInt32LE(4) !== VERSION) return undefined;
    const headerEnd = 12 + buf.readUInt32LE(8);
    const header = JSON.parse(buf.toString('utf8', 12, headerEnd)) as {
      key: string;
      layers: [string, number][];
    };
    if (header.key !== key) return undefined;
    const grams: StyleGrams = new Map();
    let offset = headerEnd;
    for (const [name, length] of header.layers) {
      if (offset + length * 4 > buf.length) return undefined;
      grams.set(
        name,
        new Float32Array(buf.buffer.slice(buf.byteOffset + offset, buf.byteOffset + offset + length * 4)),
      );
      offset += length * 4;
    }
    return offset === buf.length ? grams : undefined;
  } catch {
    return undefined;
  }
}

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * The TensorFlow.js weights manifest: groups of shard files holding named float32 tensors back to back.
 * A weights directory holds either `weights_manifest.json` (this array) or a `model.json` whose
 * `weightsManifest` field is this array.
 */
export const weightsManifestSchema = z.array(
  z.object({
    paths: z.array(z.string().min(1)).min(1),
    weights: z.array(
      z.object({
        name: z.string(),
        shape: z.array(z.number().int().nonnegative()),
        dtype: z.literal('float32'),
      }),
    ),
  }),
);
export type WeightsManifest = z.infer<typeof weightsManifestSchema>;
export type WeightsGroup = WeightsManifest[number];

export const MANIFEST_FILE = 'weights_manifest.json';

/** Parses either manifest form; `source` names the file in error messages. */
export function parseManifest(json: unknown, source: string): WeightsManifest {
  const candidate =
    json !== null && typeof json === 'object' && 'weightsManifest' in json ? json.weightsManifest : json;
  const parsed = weightsManifestSchema.safeParse(candidate);
  if (!parsed.success)
    throw new Error(`${source} is not a TensorFlow.js weights manifest: ${parsed.error.message}`);
  return parsed.data;
}

/** Reads the manifest of a weights directory (`weights_manifest.json`, else `model.json`). */
export async function readManifest(dir: string): Promise<WeightsManifest> {
  for (const file of [MANIFEST_FILE, 'model.json']) {
    const path = join(dir, file);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      continue;
    }
    return parseManifest(JSON.parse(text), path);
  }
  throw new Error(`no ${MANIFEST_FILE} or model.json in ${dir}`);
}

/** Bytes a group's shards hold together: every tensor is float32. */
export function groupByteLength(group: WeightsGroup): number {
  return group.weights.reduce((sum, w) => sum + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
}

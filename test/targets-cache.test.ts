import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEvaluator,
  type Evaluator,
  LAYER_SETS,
  type RgbImage,
  stylize,
  weightsFromStrength,
} from '../engine/index.ts';
import { pixelsSha256, TargetsCache, weightsFingerprint } from '../engine/targets-cache.ts';
import { decodeImage } from '../lib/images/index.ts';
import { asset, SHALLOW_WEIGHTS } from './assets.ts';

const layers = { style: [...LAYER_SETS.shallow.style], content: [...LAYER_SETS.shallow.content] };
let content: RgbImage;
let style: RgbImage;
let evaluator: Evaluator;
let styleCalls = 0;
let dir: string;
let fingerprint: string;

/** The real evaluator, counting the style target computations the driver asks of it. */
function counting(inner: Evaluator): Evaluator {
  return {
    backend: inner.backend,
    device: inner.device,
    targets: (image, set) => {
      if (set.style.length > 0) styleCalls++;
      return inner.targets(image, set);
    },
    objective: (w, h, terms) => inner.objective(w, h, terms),
    dispose: () => inner.dispose(),
  };
}

beforeAll(async () => {
  content = await decodeImage(await readFile(asset('content/tubingen.jpg')), { maxSide: 64 });
  style = await decodeImage(await readFile(asset('styles/starry_night.jpg')), { maxSide: 96 });
  evaluator = counting(await createEvaluator({ backend: 'onnx', weights: SHALLOW_WEIGHTS, layers }));
  dir = await mkdtemp(join(tmpdir(), 'targets-'));
  fingerprint = await weightsFingerprint(SHALLOW_WEIGHTS);
});

afterAll(async () => {
  evaluator?.dispose();
  await rm(dir, { recursive: true, force: true });
});

// Two scales (32 and 64 px), two iterations each: style targets at both.
const request = (cacheKey?: string) => ({
  content,
  styles: [{ image: style, cacheKey }],
  size: 64,
  scales: 2,
  iterations: 4,
  layers,
  weights: weightsFromStrength(50, layers),
});

describe('the style-target cache', () => {
  it('computes a preset style’s targets once per scale, then serves them, with identical results', async () => {
    const key = `preset:starry_night:${pixelsSha256(style.data)}`;
    const cache = new TargetsCache({ fingerprint, dir });
    const events: boolean[] = [];
    const onStyleTargets = (e: { cached: boolean }) => events.push(e.cached);

    styleCalls = 0;
    const plain = await stylize(evaluator, request());
    expect(styleCalls).toBe(2);

    styleCalls = 0;
    const first = await stylize(evaluator, request(key), { targetsCache: cache, onStyleTargets });
    expect(styleCalls).toBe(2);
    expect(events).toEqual([false, false]);
    expect((await readdir(dir)).filter((f) => f.endsWith('.bin'))).toHaveLength(2);

    styleCalls = 0;
    const second = await stylize(evaluator, request(key), { targetsCache: cache, onStyleTargets });
    expect(styleCalls).toBe(0);
    expect(events).toEqual([false, false, true, true]);
    expect(cache.stats).toMatchObject({ hits: 2, misses: 2, diskHits: 0 });

    expect(first.image.data).toEqual(plain.image.data);
    expect(second.image.data).toEqual(plain.image.data);

    // A new cache (a restarted worker) reads the disk entries back, bit for bit.
    const restarted = new TargetsCache({ fingerprint, dir });
    styleCalls = 0;
    const third = await stylize(evaluator, request(key), { targetsCache: restarted });
    expect(styleCalls).toBe(0);
    expect(restarted.stats).toMatchObject({ hits: 2, diskHits: 2, misses: 0 });
    expect(third.image.data).toEqual(plain.image.data);

    // Other weights (another fingerprint) miss; so does a different style identity.
    const otherWeights = new TargetsCache({
      fingerprint: await weightsFingerprint(SHALLOW_WEIGHTS, 'max'),
      dir,
    });
    styleCalls = 0;
    await stylize(evaluator, request(key), { targetsCache: otherWeights });
    expect(styleCalls).toBe(2);
    styleCalls = 0;
    await stylize(evaluator, request(`${key}x`), { targetsCache: restarted });
    expect(styleCalls).toBe(2);
  });

  it('is not used with preserveColors, whose style targets depend on the photo', async () => {
    const cache = new TargetsCache({ fingerprint });
    styleCalls = 0;
    await stylize(evaluator, { ...request('k'), preserveColors: true }, { targetsCache: cache });
    await stylize(evaluator, { ...request('k'), preserveColors: true }, { targetsCache: cache });
    expect(styleCalls).toBe(4);
    expect(cache.stats).toMatchObject({ hits: 0, misses: 0 });
  });

  it('keeps at most maxBytes in memory, dropping the least recently used', async () => {
    const cache = new TargetsCache({ fingerprint, maxBytes: 8 * 4 * 2 });
    const grams = (v: number) => new Map([['conv1_1', new Float32Array(8).fill(v)]]);
    await cache.set('a', grams(1));
    await cache.set('b', grams(2));
    await cache.get('a');
    await cache.set('c', grams(3));
    expect(await cache.get('b')).toBeUndefined();
    expect((await cache.get('a'))?.get('conv1_1')?.[0]).toBe(1);
    expect((await cache.get('c'))?.get('conv1_1')?.[0]).toBe(3);
  });
});

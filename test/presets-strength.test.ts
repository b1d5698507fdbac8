import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import { loadCatalogue } from '../presets/catalogue.ts';
import { submitJob } from '../rules/submit.ts';
import { createTestDatabase, picture, request, type TestDatabase, testCore } from './job-system.ts';

/** STYLIZE_STRENGTH here: unlike the catalogue's recommendations, so that a test can tell them apart. */
const OPERATOR_STRENGTH = 40;

describe('preset strengths', () => {
  let db: TestDatabase;
  let core: Core;
  let recommended: Map<string, number>;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    const presets = join(db.dataDir, 'presets');
    mkdirSync(presets);
    for (const [i, name] of ['starry_night', 'the_scream', 'not_in_the_catalogue'].entries()) {
      writeFileSync(join(presets, `${name}.png`), await picture(10 + i));
    }
    core = await testCore(db, { PRESETS_DIR: presets, STYLIZE_STRENGTH: String(OPERATOR_STRENGTH) });
    recommended = new Map((await loadCatalogue()).paintings.map((p) => [p.id, p.strength]));
  });
  afterAll(async () => {
    await core?.close();
    await db?.drop();
  });

  const strengthOf = async (styles: Parameters<typeof submitJob>[1]['styles'], strength?: number) => {
    const req = await request('presets', `m${Math.random()}`, strength === undefined ? {} : { strength });
    return (await submitJob(core, { ...req, styles })).job.options.strength;
  };

  it('paints a catalogue preset at its recommended strength unless the member chose one', async () => {
    const scream = recommended.get('the_scream')!;
    const starry = recommended.get('starry_night')!;
    expect(scream).not.toBe(OPERATOR_STRENGTH);
    expect(await strengthOf([{ preset: 'the_scream' }])).toBe(scream);
    expect(await strengthOf([{ preset: 'the_scream' }], 80)).toBe(80);
    expect(await strengthOf([{ preset: 'the_scream', weight: 3 }, { preset: 'starry_night' }])).toBe(
      Math.round((3 * scream + starry) / 4),
    );
    // Not every painting in the catalogue: the operator's default.
    expect(await strengthOf([{ preset: 'not_in_the_catalogue' }])).toBe(OPERATOR_STRENGTH);
    expect(await strengthOf([{ image: await picture(20), name: 'upload' }])).toBe(OPERATOR_STRENGTH);
    expect(await strengthOf([{ preset: 'the_scream' }, { image: await picture(21), name: 'upload' }])).toBe(
      OPERATOR_STRENGTH,
    );
  });
});

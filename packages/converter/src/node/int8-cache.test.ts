import { fixtureCases, tinyFixture } from '@video-llava/test-utils';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ModelSessions, greedyGenerate, loadSessions, runCase } from '../../test/model-runner.js';

// decoder_kv_int8 of the fp32 conversion (test/global-setup.ts), behind int8CacheAsPresent: the same weights as
// decoder_model_merged, the key/value cache rounded to int8 with per-channel scales. Not exact by design: what it
// costs is measured against transformers here and bounded. Measured when it was written (scale margin 2): the
// reference's top-5 logits within 1.9e-3 over the 24 steps of every case, every greedy token equal. With margin 1.25
// the short text-only prompt diverged at its 8th token (later keys clipped to the prompt's range); with 4, the
// two-image case at its 9th (coarser steps).
const LOGIT_TOLERANCE = 5e-3;
// The int8 cache decoder takes sequences without padding: the cases of one unpadded row run here; the padded batch is
// refused (below).
const unpadded = (name: string) =>
  (tinyFixture.npy(`case_${name}`, 'attention_mask.npy').data as BigInt64Array).every((value) => value === 1n);
const cases = fixtureCases().filter((fixtureCase) => unpadded(fixtureCase.name));
const padded = fixtureCases().filter((fixtureCase) => !unpadded(fixtureCase.name));

describe('the int8 cache decoder against transformers', () => {
  let sessions: ModelSessions;
  beforeAll(async () => {
    sessions = await loadSessions(inject('fixtureFp32'), '', undefined, undefined, true);
  });
  afterAll(async () => {
    await sessions.release();
  });

  it.each(cases.map((fixtureCase) => [fixtureCase.name, fixtureCase] as const))('%s', async (name, fixtureCase) => {
    const run = await runCase(sessions, fixtureCase, false, 1);
    const expected = tinyFixture.npy(`case_${name}`, 'generated_ids.npy');
    const steps = expected.dims[1]!;
    const topValues = tinyFixture.npy(`case_${name}`, 'step_top5_values.npy').data as Float32Array;
    const topIndices = tinyFixture.npy(`case_${name}`, 'step_top5_indices.npy').data as BigInt64Array;
    const reference = Array.from(expected.data as BigInt64Array, Number);
    let largest = 0;
    const generated = await greedyGenerate(sessions, run, steps, (step, logits) => {
      for (let rank = 0; rank < 5; rank++) {
        const at = step * 5 + rank;
        largest = Math.max(largest, Math.abs(logits[Number(topIndices[at])]! - topValues[at]!));
      }
    });
    expect(generated.flat()).toEqual(reference);
    expect(largest, `${name}: largest difference of the top-5 logits over ${steps} steps`).toBeLessThanOrEqual(
      LOGIT_TOLERANCE,
    );
  });

  it('runs the unpadded cases and refuses the padded batch', async () => {
    expect(cases.map((fixtureCase) => fixtureCase.name)).toEqual([
      'text_only',
      'image',
      'video',
      'image_and_video',
      'two_images',
    ]);
    expect(padded.length).toBeGreaterThan(0);
    for (const fixtureCase of padded)
      await expect(runCase(sessions, fixtureCase, false, 1)).rejects.toThrow(/no padding/);
  });
});

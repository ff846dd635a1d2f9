import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureCases, tinyFixture } from '@video-llava/test-utils';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ModelSessions, loadSessions, runCase } from '../../test/model-runner.js';
import { convertCheckpoint } from './convert-checkpoint.js';

// num_logits_to_keep, as Hugging Face's exporters name it: the decoder's logits of the last N positions only
// (0 = all). Where the last rows are compared with every position's, the lm_head runs over fewer rows, which
// ONNX Runtime may add up in another order: within 1e-5, well inside the 1e-4 of the parity tests.
const SAME = 1e-5;
const textOnly = fixtureCases().find((fixtureCase) => fixtureCase.name === 'text_only')!;
const image = fixtureCases().find((fixtureCase) => fixtureCase.name === 'image')!;

function lastRows(logits: ort.Tensor, count: number): Float32Array {
  const [rows, positions, vocab] = logits.dims as [number, number, number];
  const data = logits.data as Float32Array;
  const out = new Float32Array(rows * count * vocab);
  for (let row = 0; row < rows; row++)
    out.set(
      data.subarray((row * positions + positions - count) * vocab, (row + 1) * positions * vocab),
      row * count * vocab,
    );
  return out;
}

function largestDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let largest = 0;
  for (let index = 0; index < a.length; index++) largest = Math.max(largest, Math.abs(a[index]! - b[index]!));
  return largest;
}

describe.each([
  ['standard ONNX ops', 'fixtureFp32'],
  ['ONNX Runtime contrib ops in the decoder', 'fixtureFp32Contrib'],
] as const)('decoder_model_merged num_logits_to_keep (%s)', (_, folder) => {
  let sessions: ModelSessions;
  beforeAll(async () => {
    sessions = await loadSessions(inject(folder));
  });
  afterAll(async () => {
    await sessions.release();
  });

  it('is an int64 scalar input; logits are [B, K, V]', () => {
    expect(sessions.decoder.inputNames).toContain('num_logits_to_keep');
    const metadata = sessions.decoder.inputMetadata.find((input) => input.name === 'num_logits_to_keep')!;
    expect(metadata).toMatchObject({ isTensor: true, type: 'int64', shape: [] });
  });

  it.each([
    [1, 'the last position'],
    [3, 'the last 3 positions'],
  ])('%i keeps %s: the same logits as those rows of all, and the same cache', async (count) => {
    const all = await runCase(sessions, image, false, 0);
    const kept = await runCase(sessions, image, false, count);
    expect(all.prefill.logits!.dims).toEqual([1, all.sequence, all.vocab]);
    expect(kept.prefill.logits!.dims).toEqual([1, count, all.vocab]);
    expect(
      largestDifference(kept.prefill.logits!.data as Float32Array, lastRows(all.prefill.logits!, count)),
    ).toBeLessThanOrEqual(SAME);
    expect(kept.prefill['present.1.value']!.data).toEqual(all.prefill['present.1.value']!.data);
  });

  it('0, or more positions than the prompt has, keeps them all; a [1] tensor works as the scalar does', async () => {
    const all = await runCase(sessions, textOnly, false, 0);
    const tooMany = await runCase(sessions, textOnly, false, all.sequence + 5);
    expect(tooMany.prefill.logits!.dims).toEqual([1, all.sequence, all.vocab]);
    expect(tooMany.prefill.logits!.data).toEqual(all.prefill.logits!.data);
    const { inputs_embeds } = await sessions.embed.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.of(1n, 2n, 3n), [1, 3]),
    });
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: inputs_embeds!,
      attention_mask: new ort.Tensor('int64', BigInt64Array.of(1n, 1n, 1n), [1, 3]),
      position_ids: new ort.Tensor('int64', BigInt64Array.of(0n, 1n, 2n), [1, 3]),
    };
    for (let layer = 0; layer < sessions.config.layers; layer++) {
      for (const kind of ['key', 'value'])
        feeds[`past_key_values.${layer}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [
          1,
          sessions.config.kvHeads,
          0,
          sessions.config.headDim,
        ]);
    }
    const scalar = await sessions.decoder.run(
      { ...feeds, num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(2n), []) },
      ['logits'],
    );
    const vector = await sessions.decoder.run(
      { ...feeds, num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(2n), [1]) },
      ['logits'],
    );
    expect(vector.logits!.dims).toEqual([1, 2, all.vocab]);
    expect(vector.logits!.data).toEqual(scalar.logits!.data);
  });
});

describe('numLogitsToKeepInput: false', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'converter-logits-to-keep-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes the decoder without the input, which returns every position and otherwise the same logits', async () => {
    const output = join(root, 'without');
    await convertCheckpoint(tinyFixture.model, output, {
      dtypes: ['fp32'],
      parts: ['decoder_model_merged'],
      numLogitsToKeepInput: false,
      copyFiles: false,
    });
    const fixture = inject('fixtureFp32');
    const withInput = await loadSessions(fixture);
    const decoder = await ort.InferenceSession.create(join(output, 'onnx', 'decoder_model_merged.onnx'), {
      logSeverityLevel: 3,
      intraOpNumThreads: 2,
    });
    try {
      expect(decoder.inputNames).not.toContain('num_logits_to_keep');
      const expected = await runCase(withInput, textOnly, false, 0);
      const actual = await runCase({ ...withInput, decoder }, textOnly, false, 1);
      expect(actual.prefill.logits!.dims).toEqual([1, expected.sequence, expected.vocab]);
      expect(actual.prefill.logits!.data).toEqual(expected.prefill.logits!.data);
    } finally {
      await decoder.release();
      await withInput.release();
    }
  });
});

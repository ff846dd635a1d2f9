import { assertClose, fixtureCases, tinyFixture } from '@video-llava/test-utils';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ModelSessions, greedyGenerate, loadSessions, runCase } from '../../test/model-runner.js';

// fp32 conversion of fixtures/video-llava-tiny/model (made once in test/global-setup.ts), run with
// onnxruntime-node, against what transformers computed. Tolerance: 1e-4 (float32 ONNX Runtime vs PyTorch).
const TOLERANCE = 1e-4;
const cases = fixtureCases();

describe.each([
  ['standard ONNX ops', 'fixtureFp32', undefined],
  ['ONNX Runtime contrib ops in the decoder', 'fixtureFp32Contrib', undefined],
  // decoder_kv_buffer: the past in buffers with 5 unfilled (masked) positions, only the new keys and values returned.
  ['the key/value buffer decoder', 'fixtureFp32', 5],
] as const)('fp32 conversion of the fixture matches transformers (%s)', (_, folder, kvBufferUnfilled) => {
  let sessions: ModelSessions;
  beforeAll(async () => {
    sessions = await loadSessions(inject(folder), '', undefined, kvBufferUnfilled);
  });
  afterAll(async () => {
    await sessions.release();
  });

  it.each(cases.map((fixtureCase) => [fixtureCase.name, fixtureCase] as const))(
    '%s: projector outputs, logits_last, and 24 greedy tokens with their top-5 logits through the KV cache',
    async (name, fixtureCase) => {
      // The prefill keeps every position's logits where logits_all is compared, else only the last (num_logits_to_keep 1, as generation does).
      const run = await runCase(sessions, fixtureCase, name === 'video', name === 'text_only' ? 0 : 1);
      // One projector call per tower call: all images together, then all videos.
      const towerCalls = Number(fixtureCase.images.length > 0) + Number(fixtureCase.videos > 0);
      expect(run.projectorOutputs.length).toBe(towerCalls);
      for (let index = 0; index < towerCalls; index++) {
        assertClose(
          run.projectorOutputs[index]!,
          tinyFixture.npy(`case_${name}`, `projector_out_${index}.npy`).data as Float32Array,
          TOLERANCE,
          `${name} projector_out_${index}`,
        );
      }
      const logitsLast = tinyFixture.npy(`case_${name}`, 'logits_last.npy');
      expect(logitsLast.dims).toEqual([run.batch, run.vocab]);
      assertClose(run.logitsLast, logitsLast.data as Float32Array, TOLERANCE, `${name} logits_last`);
      // decoder_kv_buffer has no hidden_states outputs (the test options add them to decoder_model_merged only).
      if (name === 'video' && kvBufferUnfilled === undefined) {
        assertClose(
          run.embeds,
          tinyFixture.npy('case_video', 'text_hidden_state_0.npy').data as Float32Array,
          TOLERANCE,
          'video text_hidden_state_0 (embeddings)',
        );
        for (const layer of [1, 2]) {
          assertClose(
            run.prefill[`hidden_states.${layer}`]!.data as Float32Array,
            tinyFixture.npy('case_video', `text_hidden_state_${layer}.npy`).data as Float32Array,
            TOLERANCE,
            `video text_hidden_state_${layer}`,
          );
        }
      }
      if (name === 'text_only') {
        assertClose(
          run.prefill.logits!.data as Float32Array,
          tinyFixture.npy('case_text_only', 'logits_all.npy').data as Float32Array,
          TOLERANCE,
          'text_only logits_all',
        );
      }
      const expected = tinyFixture.npy(`case_${name}`, 'generated_ids.npy');
      const steps = expected.dims[1]!;
      // At every step, the logits of the reference's top 5 tokens (the KV cache path, not only the prefill).
      const topValues = tinyFixture.npy(`case_${name}`, 'step_top5_values.npy').data as Float32Array;
      const topIndices = tinyFixture.npy(`case_${name}`, 'step_top5_indices.npy').data as BigInt64Array;
      let largest = 0;
      const generated = await greedyGenerate(sessions, run, steps, (step, logits) => {
        for (let row = 0; row < run.batch; row++) {
          for (let rank = 0; rank < 5; rank++) {
            const at = (row * steps + step) * 5 + rank;
            largest = Math.max(largest, Math.abs(logits[row * run.vocab + Number(topIndices[at])]! - topValues[at]!));
          }
        }
      });
      expect(generated.flat()).toEqual(Array.from(expected.data as BigInt64Array, Number));
      expect(largest, `${name}: largest difference of the top-5 logits over ${steps} steps`).toBeLessThanOrEqual(
        TOLERANCE,
      );
    },
  );
});

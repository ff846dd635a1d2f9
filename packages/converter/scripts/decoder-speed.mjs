#!/usr/bin/env node
// Speed of the decoder built from standard ONNX ops against the one built with ONNX Runtime contrib ops
// (`contribOps: true`: SimplifiedLayerNormalization, RotaryEmbedding, MultiHeadAttention), at the real
// Video-LLaVA-7B text dimensions (4096 wide, 32 heads, intermediate 11008, vocabulary 32064) with few layers.
//
//   pnpm --filter @video-llava/converter build
//   node packages/converter/scripts/decoder-speed.mjs [--layers 2] [--prefill 2080] [--steps 16] [--dtype q4] [--repeats 3]
//
// Prints, per variant, the median and the fastest prefill (one sequence of --prefill tokens, empty past) and
// decoding step after it, as JSON; the variants take turns so that load from other processes falls on both.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    layers: { type: 'string', default: '2' },
    prefill: { type: 'string', default: '2080' },
    steps: { type: 'string', default: '16' },
    dtype: { type: 'string', default: 'q4' },
    repeats: { type: 'string', default: '3' },
    threads: { type: 'string', default: '0' },
  },
});
const converter = await import('@video-llava/converter/node');
const ort = await import('onnxruntime-node');
const layers = Number(values.layers);
const prefill = Number(values.prefill);
const steps = Number(values.steps);
const repeats = Number(values.repeats);
const width = 4096;
const root = mkdtempSync(join(tmpdir(), 'converter-decoder-speed-'));
const median = (times) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];

try {
  const checkpoint = join(root, 'checkpoint');
  await converter.writeSyntheticCheckpoint(checkpoint, {
    config: converter.videoLlava7bDimensions({ text: layers, vision: 2 }),
  });
  const variants = {};
  const sessions = {};
  for (const contribOps of [false, true]) {
    const name = contribOps ? 'contrib' : 'standard';
    const report = await converter.convertCheckpoint(checkpoint, join(root, name), {
      dtypes: [values.dtype],
      parts: ['decoder_model_merged'],
      contribOps,
    });
    const file = join(report.outputDirectory, 'onnx', report.files[0].path.slice('onnx/'.length));
    sessions[name] = await ort.InferenceSession.create(file, {
      logSeverityLevel: 3,
      intraOpNumThreads: Number(values.threads),
    });
    variants[name] = { prefill: [], step: [] };
  }
  const embeds = (length) =>
    new ort.Tensor(
      'float32',
      Float32Array.from({ length: length * width }, (_, index) => Math.sin(index) * 0.5),
      [1, length, width],
    );
  // The variants take turns, so load from other processes falls on both alike.
  for (let repeat = 0; repeat < repeats; repeat++) {
    for (const name of ['standard', 'contrib']) {
      const session = sessions[name];
      const feeds = {
        inputs_embeds: embeds(prefill),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(prefill).fill(1n), [1, prefill]),
        position_ids: new ort.Tensor(
          'int64',
          BigInt64Array.from({ length: prefill }, (_, index) => BigInt(index)),
          [1, prefill],
        ),
        // Generation's prefill: only the last position's logits.
        num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(1n), []),
      };
      for (let layer = 0; layer < layers; layer++)
        for (const kind of ['key', 'value'])
          feeds[`past_key_values.${layer}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, 32, 0, 128]);
      let started = performance.now();
      let outputs = await session.run(feeds);
      variants[name].prefill.push(performance.now() - started);
      for (let step = 0; step < steps; step++) {
        const total = prefill + step + 1;
        const next = {
          inputs_embeds: embeds(1),
          attention_mask: new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
          position_ids: new ort.Tensor('int64', BigInt64Array.from([BigInt(total - 1)]), [1, 1]),
          num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(1n), []),
        };
        for (let layer = 0; layer < layers; layer++)
          for (const kind of ['key', 'value'])
            next[`past_key_values.${layer}.${kind}`] = outputs[`present.${layer}.${kind}`];
        started = performance.now();
        outputs = await session.run(next);
        variants[name].step.push(performance.now() - started);
      }
    }
  }
  for (const name of ['standard', 'contrib']) {
    await sessions[name].release();
    const { prefill: prefillTimes, step: stepTimes } = variants[name];
    variants[name] = {
      prefillMs: Number(median(prefillTimes).toFixed(1)),
      prefillMinMs: Number(Math.min(...prefillTimes).toFixed(1)),
      stepMs: Number(median(stepTimes).toFixed(2)),
      stepMinMs: Number(Math.min(...stepTimes).toFixed(2)),
    };
  }
  process.stdout.write(
    `${JSON.stringify({ layers, prefill, steps, dtype: values.dtype, ...variants, prefillRatio: variants.standard.prefillMs / variants.contrib.prefillMs, prefillMinRatio: variants.standard.prefillMinMs / variants.contrib.prefillMinMs, stepRatio: variants.standard.stepMs / variants.contrib.stepMs, stepMinRatio: variants.standard.stepMinMs / variants.contrib.stepMinMs }, null, 2)}\n`,
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}

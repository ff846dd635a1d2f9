// `pnpm bench cache [--dtype q4|q8] [--context 274,2074] [--rounds 6] [--steps 5] [--threads 2]`: a decoding step of
// our two CPU decoders over the same synthetic 7B weights, both loaded in one process and timed in alternating
// bursts: the float32 key/value buffer decoder (`decoder_kv_buffer_<dtype>.onnx` on onnxruntime-node, as the model
// runs it by default) and the int8 cache decoder (`decoder_kv_int8_<dtype>.onnx`: GroupQueryAttention over int8
// past/present buffers, through runtime-node's in-place runner, as the model runs it with `kvCache: 'int8'`). For each
// context it prints both steps and, per decoder, the step at the longest context over the step at the shortest (issue
// 10's long / short target). Uses the bench cache of `pnpm bench 7b` (checkpoint, conversion), writing what is missing.
import { join } from 'node:path';
import { Tensor } from '@video-llava/core';
import { kvBufferCapacity } from '@video-llava/model';
import { createInplaceSession } from '@video-llava/runtime-node';
import * as ort from 'onnxruntime-node';
import { median } from '../types.js';
import { decoderStepFeeds } from './decoder-step-feeds.js';
import { parseStepBenchArgs } from './step-bench-args.js';
import { convertOnce, syntheticCheckpoint } from './prepare.js';

const { dtype, contexts, rounds, steps, threads, layers } = parseStepBenchArgs(
  ['q4', 'q8', 'fp32'],
  'the formats with an int8 cache decoder',
);

const started = performance.now();
const log = (line: string) =>
  process.stderr.write(`[cache ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
const checkpoint = await syntheticCheckpoint(layers, log);
const conversion = await convertOnce(checkpoint.directory, layers, dtype, {}, log);
const suffix = dtype === 'fp32' ? '' : `_${dtype}`;

const bufferSession = await ort.InferenceSession.create(
  join(conversion.directory, 'onnx', `decoder_kv_buffer${suffix}.onnx`),
  { intraOpNumThreads: threads, logSeverityLevel: 3 },
);
log('float32 buffer decoder loaded');
const int8File = join(conversion.directory, 'onnx', `decoder_kv_int8${suffix}.onnx`);
const int8Session = await createInplaceSession(int8File, { intraOpThreads: threads });
log('int8 cache decoder loaded (in-place runner)');

/** One step of the int8 decoder over `context` cached positions in buffers of `capacity`. */
function int8StepFeeds(context: number, capacity: number) {
  const feeds: Record<string, Tensor> = {};
  const outputs: Record<string, Tensor> = {};
  const pastNames = int8Session.inputNames.filter((name) => name.startsWith('past_key_values.'));
  const shape = (name: string) =>
    (bufferSession.inputMetadata.find((input) => input.name === name) as { shape: readonly number[] }).shape;
  const width = shape('inputs_embeds')[2]!;
  // The buffer decoder's past is [B, kvH, hd, C].
  const [, heads, headDim] = shape(pastNames[0]!) as [number, number, number];
  const vocab = (
    bufferSession.outputMetadata.find((output) => output.name === 'logits') as { shape: readonly number[] }
  ).shape[2]!;
  feeds.inputs_embeds = new Tensor(
    'float32',
    Float32Array.from({ length: width }, (_, i) => Math.sin(i) * 0.02),
    [1, 1, width],
  );
  feeds.position_ids = new Tensor('int64', BigInt64Array.of(BigInt(context)), [1, 1]);
  feeds.num_logits_to_keep = new Tensor('int64', BigInt64Array.of(1n), []);
  feeds.seqlens_k = new Tensor('int32', Int32Array.of(context), [1]);
  feeds.total_sequence_length = new Tensor('int32', Int32Array.of(context + 1), []);
  const pattern = Int8Array.from({ length: heads * capacity * headDim }, (_, i) => ((i * 37) % 255) - 127);
  const scale = new Float32Array(heads * headDim).fill(0.01);
  for (const name of pastNames) {
    const buffer = new Tensor('int8', pattern.slice(), [1, heads, capacity, headDim]);
    feeds[name] = buffer;
    outputs[name.replace('past_key_values.', 'present.')] = buffer;
    feeds[name.replace('past_key_values.', 'kv_scales.')] = new Tensor('float32', scale, [heads, 1, headDim]);
  }
  outputs.logits = new Tensor('float32', new Float32Array(vocab), [1, 1, vocab]);
  return { feeds, outputs };
}

const results: Array<{ context: number; buffer: number[]; int8: number[] }> = [];
for (const context of contexts) {
  const capacity = kvBufferCapacity(context + rounds * steps + 8, Number.MAX_SAFE_INTEGER);
  const bufferFeeds = decoderStepFeeds(bufferSession, context, capacity);
  const { feeds, outputs } = int8StepFeeds(context, capacity);
  const times = { buffer: [] as number[], int8: [] as number[] };
  const run = {
    buffer: () => bufferSession.run(bufferFeeds).then(() => undefined),
    int8: () => int8Session.run(feeds, outputs),
  };
  // One unmeasured step each, then the bursts in alternating order; the first step of each burst is not counted.
  await run.buffer();
  await run.int8();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['buffer', 'int8'] as const) : (['int8', 'buffer'] as const);
    for (const who of order)
      for (let step = 0; step < steps; step++) {
        const stepStarted = performance.now();
        await run[who]();
        if (step > 0) times[who].push(performance.now() - stepStarted);
      }
  }
  log(
    `context ${context}: float32 buffer ${median(times.buffer).toFixed(0)} ms, int8 ${median(times.int8).toFixed(0)} ms`,
  );
  results.push({ context, ...times });
}
await bufferSession.release();
await int8Session.release();

const rows = results.map(
  ({ context, buffer, int8 }) =>
    `| ${context} | ${median(buffer).toFixed(0)} ms (min ${Math.min(...buffer).toFixed(0)}) | ${median(int8).toFixed(0)} ms (min ${Math.min(...int8).toFixed(0)}) | ${(median(buffer) / median(int8)).toFixed(2)} |`,
);
const shortest = results[0]!;
const longest = results[results.length - 1]!;
const ratio = (pick: (entry: (typeof results)[number]) => number[]) =>
  (median(pick(longest)) / median(pick(shortest))).toFixed(2);
process.stdout.write(
  `# decode step, ${dtype}, float32 buffer decoder (onnxruntime-node) and int8 cache decoder (in-place runner), one process, ${rounds} rounds of ${steps} steps (the first of each not counted), alternating; ${threads} threads\n` +
    `| context | float32 buffer (median) | int8 cache (median) | float32 / int8 |\n| --- | --- | --- | --- |\n${rows.join('\n')}\n` +
    `long / short (${longest.context} / ${shortest.context}): float32 buffer ${ratio((entry) => entry.buffer)}x, int8 cache ${ratio((entry) => entry.int8)}x\n`,
);

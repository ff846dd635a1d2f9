// `pnpm bench duel [--dtype q4|q8] [--context 274,2074] [--rounds 6] [--steps 5] [--threads 2]`: our decoding step
// and llama.cpp's on the same synthetic 7B weights, both loaded in one process and timed in alternating bursts, so
// that the machine's drift (which moved the same llama.cpp step between 120 and 343 ms across `pnpm bench 7b` runs)
// falls on both alike. `pnpm bench 7b` measures each peer minutes apart; this is its head-to-head check.
//
// Ours: the buffer decoder (`decoder_kv_buffer_<dtype>.onnx`) as @video-llava/model runs it on the CPU, one new
// position over a cache of `context` positions in a buffer of the capacity the model would give it (its values do not
// change the work). llama.cpp: node-llama-cpp 3.21.1 on the GGUF file written from the same checkpoint, greedy steps
// after a prompt of `context` token ids. Uses the bench cache of `pnpm bench 7b` (checkpoint, conversion, GGUF, peers),
// writing what is missing. Prints a table; never part of the default topics or CI.
import { join } from 'node:path';
import { kvBufferCapacity } from '@video-llava/model';
import * as ort from 'onnxruntime-node';
import { median } from '../types.js';
import { decoderStepFeeds } from './decoder-step-feeds.js';
import { loadLlama } from './node-llama-cpp.js';
import { ensurePeers } from './peers-install.js';
import { peersDir } from './paths.js';
import { parseStepBenchArgs } from './step-bench-args.js';
import { convertOnce, ggufOnce, syntheticCheckpoint } from './prepare.js';

const GGUF_TYPES = { q4: 'Q4_0', q8: 'Q8_0' } as const;
const args = parseStepBenchArgs(['q4', 'q8'], "llama.cpp's Q4_0, Q8_0");
const dtype = args.dtype as keyof typeof GGUF_TYPES;
const { contexts, rounds, steps, threads, layers } = args;

const started = performance.now();
const log = (line: string) =>
  process.stderr.write(`[duel ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
const checkpoint = await syntheticCheckpoint(layers, log);
const conversion = await convertOnce(checkpoint.directory, layers, dtype, {}, log);
const gguf = await ggufOnce(checkpoint.directory, layers, GGUF_TYPES[dtype], log);
const peers = ensurePeers(peersDir(), log);

const llama = await loadLlama(peers, threads);
const llamaModel = await llama.loadModel({ modelPath: gguf.file, gpuLayers: 0 });
const longest = Math.max(...contexts) + rounds * steps + 8;
const llamaContext = await llamaModel.createContext({
  contextSize: Math.ceil(longest / 256) * 256,
  batchSize: 512,
  threads,
  sequences: 1,
});
const sequence = llamaContext.getSequence();
log(`llama.cpp ${GGUF_TYPES[dtype]} loaded (${(gguf.bytes / 1e9).toFixed(2)} GB)`);

// Ours, as the model runs it on onnxruntime-node's CPU provider (its default session options, `threads` threads).
const decoder = join(conversion.directory, 'onnx', `decoder_kv_buffer_${dtype}.onnx`);
const session = await ort.InferenceSession.create(decoder, { intraOpNumThreads: threads, logSeverityLevel: 3 });
log(`ours ${dtype} loaded (${decoder})`);

const rows: string[] = [];
for (const context of contexts) {
  // llama.cpp: a prompt of `context` ids (any ids: the work per step does not depend on them), then greedy steps.
  await sequence.clearHistory();
  const prompt = Array.from({ length: context }, (_, i) => 3 + ((i * 7919) % 31000));
  const generator = sequence.evaluate(prompt, { temperature: 0 });
  const prefillStarted = performance.now();
  await generator.next();
  log(`context ${context}: llama.cpp prefill ${((performance.now() - prefillStarted) / 1000).toFixed(1)} s`);
  // One new position after `context` cached ones, in a buffer of the capacity the model gives them.
  const feeds = decoderStepFeeds(session, context, kvBufferCapacity(context, Number.MAX_SAFE_INTEGER));
  const times = { ours: [] as number[], llama: [] as number[] };
  const burst = {
    ours: async () => {
      for (let step = 0; step < steps; step++) {
        const stepStarted = performance.now();
        await session.run(feeds);
        if (step > 0) times.ours.push(performance.now() - stepStarted);
      }
    },
    llama: async () => {
      for (let step = 0; step < steps; step++) {
        const stepStarted = performance.now();
        const next = await generator.next();
        if (next.done) throw new Error(`llama.cpp stopped generating at context ${context}`);
        if (step > 0) times.llama.push(performance.now() - stepStarted);
      }
    },
  };
  // One unmeasured step each (first-run allocations), then the bursts, their order alternating round by round. The
  // first step of each burst is not counted either: it runs while the other runtime's threads may still spin.
  await session.run(feeds);
  await generator.next();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['ours', 'llama'] as const) : (['llama', 'ours'] as const);
    for (const who of order) await burst[who]();
  }
  await generator.return();
  const [ours, theirs] = [median(times.ours), median(times.llama)];
  log(`context ${context}: ours ${ours.toFixed(0)} ms, llama.cpp ${theirs.toFixed(0)} ms per step`);
  rows.push(
    `| ${context} | ${ours.toFixed(0)} ms (min ${Math.min(...times.ours).toFixed(0)}) | ${theirs.toFixed(0)} ms (min ${Math.min(...times.llama).toFixed(0)}) | ${(theirs / ours).toFixed(2)} |`,
  );
}
await session.release();
await llamaContext.dispose();
await llamaModel.dispose();
await llama.dispose();
process.stdout.write(
  `# decode step, ${dtype} against llama.cpp ${GGUF_TYPES[dtype]}, one process, ${rounds} rounds of ${steps} steps each (the first of each not counted), alternating; ${threads} threads\n` +
    `| context | ours (median) | llama.cpp (median) | theirs / ours (above 1: ours faster) |\n| --- | --- | --- | --- |\n${rows.join('\n')}\n`,
);

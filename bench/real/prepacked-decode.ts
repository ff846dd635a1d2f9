// One decoding step of the buffer decoder loaded two ways in one process, timed in interleaved rounds: from its own
// file (onnxruntime prepacks the weights into its heap) and from its prepacked-cache entry (the prepacked weights
// memory-mapped from disk; @video-llava/runtime-node's `prepackedCache`). Same process, alternating order, so the
// machine's noise falls on both alike.
//   node --conditions=@video-llava/source --import tsx real/prepacked-decode.ts <json args>
// Prints one JSON line (prefixed `RESULT `) on stdout.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PREPACKED_FOLDER } from '@video-llava/runtime-node';
import * as ort from 'onnxruntime-node';
import { median } from '../types.js';
import { decoderStepFeeds } from './decoder-step-feeds.js';

interface Args {
  /** The model folder's `onnx/decoder_kv_buffer<suffix>.onnx`. */
  decoder: string;
  threads: number;
  context: number;
  rounds: number;
}

const args = JSON.parse(process.argv[2]!) as Args;
const folder = join(args.decoder, '..', PREPACKED_FOLDER);
const prefix = `${args.decoder
  .split('/')
  .pop()!
  .replace(/\.onnx$/, '')}-`;
const entry = readdirSync(folder).find((name) => name.startsWith(prefix) && !name.includes('.partial-'));
if (entry === undefined) throw new Error(`no prepacked entry for ${args.decoder} in ${folder}`);
const options = { intraOpNumThreads: args.threads, logSeverityLevel: 3 as const };
const sessions = {
  plain: await ort.InferenceSession.create(args.decoder, options),
  entry: await ort.InferenceSession.create(join(folder, entry, 'model.onnx'), options),
};

const feeds = decoderStepFeeds(sessions.plain, args.context);

const times: Record<'plain' | 'entry', number[]> = { plain: [], entry: [] };
for (const which of ['plain', 'entry'] as const) for (let step = 0; step < 3; step++) await sessions[which].run(feeds);
for (let round = 0; round < args.rounds; round++) {
  for (const which of round % 2 === 0 ? (['entry', 'plain'] as const) : (['plain', 'entry'] as const)) {
    const started = performance.now();
    await sessions[which].run(feeds);
    times[which].push(performance.now() - started);
  }
}
const summary = (list: number[]) => ({ medianMs: median(list), minMs: Math.min(...list) });
process.stdout.write(
  `RESULT ${JSON.stringify({ context: args.context, rounds: args.rounds, plain: summary(times.plain), entry: summary(times.entry) })}\n`,
);

// One dtype of our model, measured in its own process (so that its peak RSS is its own), through the public API:
//   node --conditions=@video-llava/source --import tsx real/ours-child.ts <json args>
// Prints one JSON line (prefixed `RESULT `) on stdout; progress on stderr.
import { VideoLlava } from 'video-llava';
import { median } from '../types.js';

interface ChildArgs {
  folder: string;
  dtype: string;
  threads: number;
  newTokens: number;
  prompts: { image: string; video: string };
  video: string;
  image: string;
  /** Extra session options (JSON) merged over `{ threads }`. */
  sessionOptions?: Record<string, unknown>;
  /** Extra load options (JSON). */
  loadOptions?: Record<string, unknown>;
}

const args = JSON.parse(process.argv[2]!) as ChildArgs;
const log = (line: string) => process.stderr.write(`  [ours ${args.dtype}] ${line}\n`);
const gib = (kib: number) => kib / 2 ** 20;

/** Stage timestamps of one question from the progress events: first and last event of each stage, and each decode step. */
function recorder() {
  const stages = new Map<string, { first: number; last: number }>();
  const decodeStamps: number[] = [];
  return {
    onProgress(event: { stage: string; done: number; total?: number }) {
      const now = performance.now();
      const entry = stages.get(event.stage);
      if (entry) entry.last = now;
      else stages.set(event.stage, { first: now, last: now });
      if (event.stage === 'decode') decodeStamps.push(now);
    },
    span(stage: string): number | undefined {
      const entry = stages.get(stage);
      return entry ? entry.last - entry.first : undefined;
    },
    decodeStamps,
    stages,
  };
}

async function question(model: VideoLlava, kind: 'image' | 'video') {
  const record = recorder();
  const started = performance.now();
  const answer = await model.generate({
    prompt: args.prompts[kind],
    ...(kind === 'video' ? { videos: [args.video] } : { images: [args.image] }),
    maxNewTokens: args.newTokens + 1,
    // A fixed number of tokens: no end-of-sequence stop (random weights may emit </s> at any step).
    eosTokenId: [],
    doSample: false,
    prefixCache: false,
    onProgress: (event) => record.onProgress(event),
  });
  const totalMs = performance.now() - started;
  const steps = record.decodeStamps.slice(1).map((stamp, index) => stamp - record.decodeStamps[index]!);
  const prefill = record.stages.get('prefill');
  const encode = record.stages.get('encode');
  const firstToken = record.decodeStamps[0];
  // The generation loop's prefill window holds the media encoding (the embeddings are made inside it): the prefill
  // proper is the window less the encoding.
  const encodeInsidePrefill = prefill && encode && encode.first >= prefill.first && encode.last <= prefill.last;
  const prefillMs = prefill
    ? prefill.last - prefill.first - (encodeInsidePrefill ? encode.last - encode.first : 0)
    : undefined;
  return {
    promptTokens: answer.promptTokens,
    newTokens: answer.ids.length,
    totalMs,
    mediaDecodeMs: record.span(kind === 'video' ? 'decode-video' : 'decode-image'),
    encodeMs: record.span('encode'),
    prefillMs,
    prefillWindowMs: record.span('prefill'),
    /** From the call to the first token (media decode, preprocess, encode, prefill, first argmax). */
    firstTokenMs: firstToken === undefined ? undefined : firstToken - started,
    prefillEndToFirstTokenMs: firstToken !== undefined && prefill ? firstToken - prefill.last : undefined,
    decodeStepsMs: steps,
    decodeMsPerToken: steps.length > 0 ? median(steps) : undefined,
    maxRssGiB: gib(process.resourceUsage().maxRSS),
  };
}

const loadStarted = performance.now();
const model = await VideoLlava.load(args.folder, {
  dtype: args.dtype as never,
  sessionOptions: { threads: args.threads, ...(args.sessionOptions ?? {}) },
  preload: ['embed_tokens', 'decoder_model_merged', 'video_encoder', 'image_encoder'],
  prefixCache: false,
  ...(args.loadOptions ?? {}),
});
const loadMs = performance.now() - loadStarted;
const afterLoadRssGiB = gib(process.resourceUsage().maxRSS);
log(`loaded in ${(loadMs / 1000).toFixed(1)} s (peak RSS ${afterLoadRssGiB.toFixed(2)} GiB)`);

// The cache's element type, when the model tells it (decode floors count the cache bytes read per step): the
// `tensors` of an empty cache (VideoLlavaCache), or whatever the current code returns.
let cacheDtype: string | undefined;
try {
  const cache = (await (model.model as unknown as { emptyCache(rows: number): Promise<unknown> }).emptyCache(1)) as
    | { tensors?: Record<string, { dtype?: string }> }
    | undefined;
  cacheDtype = Object.values(cache?.tensors ?? {})[0]?.dtype;
} catch {
  cacheDtype = undefined;
}

// The image question first (the shorter one), then the video question; a result line after each, so that a run
// stopped past its budget still reports what it measured.
const result: Record<string, unknown> = {
  dtype: args.dtype,
  threads: args.threads,
  loadMs,
  afterLoadRssGiB,
  cacheDtype,
};
const image = await question(model, 'image');
log(
  `image question: ${image.promptTokens} prompt tokens, prefill ${((image.prefillMs ?? 0) / 1000).toFixed(1)} s, decode ${(image.decodeMsPerToken ?? 0).toFixed(0)} ms/token`,
);
result['image'] = image;
process.stdout.write(`RESULT ${JSON.stringify({ ...result, peakRssGiB: gib(process.resourceUsage().maxRSS) })}\n`);
const video = await question(model, 'video');
log(
  `video question: ${video.promptTokens} prompt tokens, prefill ${((video.prefillMs ?? 0) / 1000).toFixed(1)} s, decode ${(video.decodeMsPerToken ?? 0).toFixed(0)} ms/token, peak RSS ${video.maxRssGiB.toFixed(2)} GiB`,
);
result['video'] = video;
process.stdout.write(`RESULT ${JSON.stringify({ ...result, peakRssGiB: gib(process.resourceUsage().maxRSS) })}\n`);
await model.release();

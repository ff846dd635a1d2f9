// transformers.js (@huggingface/transformers) generating greedily from OUR decoder ONNX files, in its own process:
//   node --import tsx real/transformers-child.ts <json args>
// Its loader wants a model type it knows: Video-LLaVA is not one, so a view folder of symbolic links presents our
// converted folder as a `llava` model (LlavaForConditionalGeneration: embed_tokens, vision_encoder,
// decoder_model_merged; our image encoder stands in as its vision encoder, which a text prompt never runs) with its
// file suffixes (`_q4`; q8 is `_quantized` there). The prompt is fed as token ids (the same ids our processor makes,
// media placeholders included, embedded as tokens), greedy, a fixed number of new tokens.
import { mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { median } from '../types.js';

interface ChildArgs {
  peers: string;
  folder: string;
  dtype: string;
  view: string;
  threads: number;
  newTokens: number;
  prompts: Record<string, number[]>;
}

const args = JSON.parse(process.argv[2]!) as ChildArgs;
const require = createRequire(join(args.peers, 'package.json'));
// The peer is installed outside the workspace (bench/real/peers-install.ts): the little of its API used here.
interface TransformersJs {
  env: { allowRemoteModels: boolean; localModelPath: string };
  Tensor: new (type: string, data: BigInt64Array, dims: number[]) => unknown;
  LlavaForConditionalGeneration: {
    from_pretrained(
      id: string,
      options: Record<string, unknown>,
    ): Promise<{ generate(options: Record<string, unknown>): Promise<unknown>; dispose(): Promise<void> }>;
  };
}
const transformers = (await import(require.resolve('@huggingface/transformers'))) as TransformersJs;
const SUFFIX: Record<string, string> = { fp32: '', fp16: '_fp16', q8: '_quantized', q4: '_q4' };
const OURS: Record<string, string> = { fp32: '', fp16: '_fp16', q8: '_q8', q4: '_q4' };

// The view: config.json as llava, the ONNX files (and external data, under their own names) linked.
rmSync(args.view, { recursive: true, force: true });
mkdirSync(join(args.view, 'onnx'), { recursive: true });
const config = JSON.parse(readFileSync(join(args.folder, 'config.json'), 'utf8')) as Record<string, unknown>;
writeFileSync(
  join(args.view, 'config.json'),
  JSON.stringify({ ...config, model_type: 'llava', architectures: ['LlavaForConditionalGeneration'] }, null, 2),
);
symlinkSync(join(args.folder, 'generation_config.json'), join(args.view, 'generation_config.json'));
const ours = OURS[args.dtype]!;
const theirs = SUFFIX[args.dtype]!;
for (const name of readdirSync(join(args.folder, 'onnx'))) {
  const target = join(args.folder, 'onnx', name);
  if (name.endsWith('.onnx')) {
    const part = name.slice(0, -`${ours}.onnx`.length);
    if (name !== `${part}${ours}.onnx`) continue;
    const as = part === 'image_encoder' ? 'vision_encoder' : part;
    symlinkSync(target, join(args.view, 'onnx', `${as}${theirs}.onnx`));
  } else symlinkSync(target, join(args.view, 'onnx', name)); // external data keeps the name the .onnx refers to
}

transformers.env.allowRemoteModels = false;
transformers.env.localModelPath = `${dirname(args.view)}/`;
const loadStarted = performance.now();
const model = await transformers.LlavaForConditionalGeneration.from_pretrained(basename(args.view), {
  dtype: args.dtype,
  device: 'cpu',
  session_options: { intraOpNumThreads: args.threads, interOpNumThreads: 1 },
});
const loadMs = performance.now() - loadStarted;
const results: Record<string, unknown> = {};
for (const [name, ids] of Object.entries(args.prompts)) {
  const stamps: number[] = [];
  const streamer = {
    put(_value: unknown) {
      stamps.push(performance.now());
    },
    end() {},
  };
  const started = performance.now();
  const output = (await model.generate({
    input_ids: new transformers.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
    attention_mask: new transformers.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
    max_new_tokens: args.newTokens,
    min_new_tokens: args.newTokens,
    do_sample: false,
    streamer,
  })) as { tolist(): bigint[][] };
  // put() comes once with the prompt, then once per new token.
  const tokenStamps = stamps.slice(1);
  const prefillMs = tokenStamps[0]! - started;
  const steps = tokenStamps.slice(1).map((stamp, index) => stamp - tokenStamps[index]!);
  const tokens = output.tolist()[0]!.slice(ids.length).map(Number);
  results[name] = {
    promptTokens: ids.length,
    prefillMs,
    decodeStepsMs: steps,
    decodeMsPerToken: steps.length ? median(steps) : undefined,
    tokens,
  };
  process.stderr.write(
    `  [transformers.js ${args.dtype}] ${name}: ${ids.length} tokens, prefill ${(prefillMs / 1000).toFixed(1)} s, decode ${steps.length ? median(steps).toFixed(0) : '-'} ms/token\n`,
  );
}
await model.dispose();
process.stdout.write(
  `RESULT ${JSON.stringify({ loadMs, results, peakRssGiB: process.resourceUsage().maxRSS / 2 ** 20 })}\n`,
);

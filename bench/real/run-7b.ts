// `pnpm bench 7b`: Video-LLaVA-7B at its real dimensions on this machine, against the machine's ceilings and the peers
// (llama.cpp, transformers.js), measured in one run. See bench/README.md. Never part of the default topics or CI.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, freemem, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveSource } from '@video-llava/config/node';
import { Tensor } from '@video-llava/core';
import { VideoLlavaProcessor } from '@video-llava/processor';
import { measureCeilings } from './ceilings.js';
import { runChild } from './child-process.js';
import { checkGgufWriter } from './gguf-check.js';
import { ensurePeers } from './peers-install.js';
import { BENCH_DIR, FIXTURE_VIDEO, REPO_DIR, cacheRoot, gitDescribe, peersDir } from './paths.js';
import { type Conversion, convertOnce, ggufOnce, syntheticCheckpoint } from './prepare.js';
import { type OursResult, type PeerResult, type RunReport, renderMarkdown, writeReadmeSection } from './report.js';

const { values } = parseArgs({
  args: process.argv.slice(3),
  options: {
    'text-layers': { type: 'string', default: '32' },
    'vision-layers': { type: 'string', default: '24' },
    dtypes: { type: 'string', default: 'q4,q8,fp16' },
    // Of those, the ones also measured with the int8 key/value cache (decoderCache 'int8'); '' for none.
    'int8-cache-dtypes': { type: 'string', default: 'q4,q8' },
    'new-tokens': { type: 'string', default: '8' },
    threads: { type: 'string', default: String(availableParallelism()) },
    'skip-peers': { type: 'boolean', default: false },
    'skip-ours': { type: 'boolean', default: false },
    'tfjs-dtypes': { type: 'string', default: 'q4' },
    'tfjs-prompts': { type: 'string', default: 'image,video' },
    'convert-options': { type: 'string', default: '{}' },
    'session-options': { type: 'string', default: '{}' },
    'child-minutes': { type: 'string', default: '15' },
    // GPU (bench/gpu-7b.sh): ours and the ceilings on this execution provider; the floors then use its streaming rate.
    ep: { type: 'string', default: 'cpu' },
    'gpu-bandwidth-gbps': { type: 'string' },
    readme: { type: 'boolean', default: true },
    'no-readme': { type: 'boolean', default: false },
  },
});

const started = performance.now();
const log = (line: string) =>
  process.stderr.write(`[7b ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
const layers = { text: Number(values['text-layers']), vision: Number(values['vision-layers']) };
const threads = Number(values.threads);
const newTokens = Number(values['new-tokens']);
const dtypes = values.dtypes.split(',').filter(Boolean);
const int8CacheDtypes = values['int8-cache-dtypes'].split(',').filter(Boolean);
for (const dtype of int8CacheDtypes)
  if (!['fp32', 'q8', 'q4'].includes(dtype))
    throw new Error(`--int8-cache-dtypes: ${dtype} has no int8 cache decoder (fp32, q8, q4 have)`);
const childSeconds = Number(values['child-minutes']) * 60;
const convertOptions = JSON.parse(values['convert-options']) as Record<string, unknown>;
const executionProvider = values.ep;
const sessionOptions = {
  ...(executionProvider === 'cpu' ? {} : { executionProviders: [executionProvider] }),
  ...(JSON.parse(values['session-options']) as Record<string, unknown>),
};
const nominalBandwidthGBps =
  values['gpu-bandwidth-gbps'] === undefined ? undefined : Number(values['gpu-bandwidth-gbps']);
for (const [name, value] of Object.entries({
  '--text-layers': layers.text,
  '--vision-layers': layers.vision,
  '--threads': threads,
  '--new-tokens': newTokens,
})) {
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, found ${value}`);
}
for (const dtype of dtypes)
  if (!['fp32', 'fp16', 'q8', 'q4'].includes(dtype))
    throw new Error(`--dtypes: unknown dtype ${dtype} (fp32, fp16, q8, q4)`);
mkdirSync(cacheRoot(), { recursive: true });

const report: RunReport = {
  date: new Date().toISOString(),
  ...gitDescribe(),
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    threads,
    availableParallelism: availableParallelism(),
    totalMemoryGiB: totalmem() / 2 ** 30,
    executionProvider,
    ...(nominalBandwidthGBps === undefined ? {} : { nominalBandwidthGBps }),
  },
  layers,
  newTokens,
  convertOptions,
  sessionOptions,
  cache: cacheRoot(),
  setupSeconds: {},
  ours: [],
  skipped: [],
  peers: [],
};

// The JSON is saved after every stage, so that a run stopped midway keeps what it measured (real/render.ts renders it).
const resultsDir = join(BENCH_DIR, 'results');
mkdirSync(resultsDir, { recursive: true });
const jsonFile = join(resultsDir, `7b-t${layers.text}-${report.date.replace(/[:.]/g, '-')}.json`);
const save = () => {
  report.totalSeconds = (performance.now() - started) / 1000;
  writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
};

// 1. What is written once: the checkpoint, the peers.
const checkpoint = await syntheticCheckpoint(layers, log);
if (checkpoint.seconds !== undefined) report.setupSeconds['checkpoint'] = checkpoint.seconds;
if (!values['skip-peers']) {
  const before = performance.now();
  const hadPeers = existsSync(join(peersDir(), 'node_modules', 'node-llama-cpp'));
  ensurePeers(peersDir(), log);
  if (!hadPeers) report.setupSeconds['peers install'] = (performance.now() - before) / 1000;
  // The GGUF writer's own check, on the tiny fixture (seconds).
  report.ggufCheck = await checkGgufWriter(threads, log);
  if (!report.ggufCheck.passed)
    log('WARNING: the GGUF writer check failed: the llama.cpp figures below are not of the same model');
}

// 2. The machine's ceilings, on the same threads.
report.ceilings = await measureCeilings(threads, log, executionProvider);
save();

// 3. The prompts, from the real processor (the checkpoint carries the fixture's tokenizer and processor files).
const processor = await VideoLlavaProcessor.fromPretrained(resolveSource(checkpoint.directory));
const frames = processor.config.processor.videoProcessor.numFrames;
const size = 224;
// The same question for both: 256 image tokens + 18 = 274, 2056 video tokens + 18 = 2074 (the issue's prompt lengths).
const PROMPTS = {
  image: 'USER: <image>\nWhy is this funny? ASSISTANT:',
  video: 'USER: <video>\nWhy is this funny? ASSISTANT:',
};
const promptIds = {
  image: Array.from(
    processor({
      text: PROMPTS.image,
      pixelValuesImages: new Tensor('float32', new Float32Array(3 * size * size), [1, 3, size, size]),
    }).inputIds.data as BigInt64Array,
    Number,
  ),
  video: Array.from(
    processor({
      text: PROMPTS.video,
      pixelValuesVideos: new Tensor('float32', new Float32Array(frames * 3 * size * size), [1, frames, 3, size, size]),
    }).inputIds.data as BigInt64Array,
    Number,
  ),
};
report.promptTokens = { image: promptIds.image.length, video: promptIds.video.length };
{
  const text = processor.config.model.textConfig;
  const vision = processor.config.model.visionConfig;
  const layerWeights =
    text.hiddenSize * (text.numAttentionHeads + 2 * text.numKeyValueHeads) * text.headDim +
    text.numAttentionHeads * text.headDim * text.hiddenSize +
    3 * text.hiddenSize * text.intermediateSize;
  const featureLayer = processor.config.model.visionFeatureLayer;
  const deepest = Math.max(
    ...(Array.isArray(featureLayer) ? featureLayer : [featureLayer]).map((layer) =>
      layer < 0 ? vision.numHiddenLayers + 1 + layer : layer,
    ),
  );
  const patches = (vision.imageSize / vision.patchSize) ** 2 + 1;
  const perLayer =
    2 * patches * (4 * vision.hiddenSize ** 2 + 2 * vision.hiddenSize * vision.intermediateSize) +
    4 * patches ** 2 * vision.hiddenSize;
  const projector = 2 * patches * (vision.hiddenSize * text.hiddenSize + text.hiddenSize ** 2);
  report.work = {
    prefillFlopPerToken: 2 * text.numHiddenLayers * layerWeights,
    videoEncodeFlop: frames * (deepest * perLayer + projector),
    cacheElementsPerToken: 2 * text.numHiddenLayers * text.numKeyValueHeads * text.headDim,
  };
}
log(`prompts: image ${promptIds.image.length} tokens, video ${promptIds.video.length} tokens (${frames} frames)`);

// 4. llama.cpp on the same weights (GGUF files written from the same checkpoint): first, as it takes minutes where
// a conversion of ours takes many.
if (!values['skip-peers']) {
  const gguf = { q4: 'Q4_0', q8: 'Q8_0' } as const;
  for (const dtype of dtypes) {
    const type = gguf[dtype as keyof typeof gguf];
    if (!type) continue;
    try {
      const file = await ggufOnce(checkpoint.directory, layers, type, log);
      if (file.seconds !== undefined) report.setupSeconds[`gguf ${type}`] = file.seconds;
      log(`llama.cpp ${type}: measuring`);
      const result = await runChild<Omit<PeerResult, 'peer' | 'variant' | 'dtype'>>(
        'llama-child.ts',
        { peers: peersDir(), file: file.file, threads, newTokens: newTokens + 1, prompts: promptIds },
        childSeconds,
      );
      report.peers.push({
        peer: 'llama.cpp',
        variant: `node-llama-cpp 3.21.1, GGUF ${type} (${(file.bytes / 1e9).toFixed(2)} GB)`,
        dtype,
        ...result,
      });
      save();
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      report.skipped.push({ what: `llama.cpp ${type}`, reason: `failed: ${reason}` });
      log(`llama.cpp ${type} failed: ${reason}`);
    }
  }
}

// 5. Ours, per dtype, each in its own process.
function memAvailableBytes(): number {
  try {
    const match = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux
  }
  return freemem();
}
/** fp16 parameters of the text model and vision tower, from the checkpoint (float16) size. */
const checkpointBytes = (
  JSON.parse(readFileSync(join(checkpoint.directory, 'model.safetensors.index.json'), 'utf8')) as {
    metadata: { total_size: number };
  }
).metadata.total_size;
const conversions = new Map<string, Conversion>();
if (values['skip-ours'])
  report.skipped.push({ what: `ours (${dtypes.join(', ')})`, reason: 'left out of this run (--skip-ours)' });
for (const dtype of values['skip-ours'] ? [] : dtypes) {
  if ((dtype === 'fp16' || dtype === 'fp32') && executionProvider === 'cpu') {
    // ONNX Runtime's CPU provider has few float16 kernels on x86: it may hold float32 copies next to the float16
    // weights. Run only when that would still fit in the memory available now (the machine is shared).
    const weights = dtype === 'fp16' ? checkpointBytes : 2 * checkpointBytes;
    const need = weights + 2 * checkpointBytes + 4 * 2 ** 30;
    const available = memAvailableBytes();
    if (need > available) {
      const reason = `needs up to ${(need / 2 ** 30).toFixed(1)} GiB (${(weights / 2 ** 30).toFixed(1)} GiB of ${dtype} weights, float32 copies ONNX Runtime's CPU provider may make, the cache), ${(available / 2 ** 30).toFixed(1)} GiB available of ${(totalmem() / 2 ** 30).toFixed(1)} GiB`;
      report.skipped.push({ what: `ours ${dtype}`, reason });
      log(`skipping ${dtype}: ${reason}`);
      continue;
    }
  }
  try {
    const conversion = await convertOnce(checkpoint.directory, layers, dtype, convertOptions, log);
    conversions.set(dtype, conversion);
    if (conversion.seconds !== undefined) report.setupSeconds[`convert ${dtype}`] = conversion.seconds;
    // Loads on their own: without the prepacked cache, then with it (writing its entries where they are missing,
    // beside the ONNX files in the bench cache) and from it; then one decode step from the entry against the plain
    // load, interleaved. The measured run below loads as the library does by default: without the cache.
    // (CPU only: the cache holds the CPU provider's layouts.)
    const prepackedCache = executionProvider === 'cpu';
    let loads: OursResult['loads'];
    if (prepackedCache) {
      const loadArgs = { folder: conversion.directory, dtype, threads };
      const plain = await runChild<{ loadMs: number }>('load-child.ts', loadArgs, childSeconds);
      const prepacked = await runChild<{ loadMs: number; prepackedEntriesWritten: number }>(
        'load-child.ts',
        { ...loadArgs, prepackedCache: true },
        childSeconds,
      );
      loads = {
        plainMs: plain.loadMs,
        ...(prepacked.prepackedEntriesWritten > 0
          ? { writingMs: prepacked.loadMs, entriesWritten: prepacked.prepackedEntriesWritten }
          : {}),
      };
      const warm = await runChild<{ loadMs: number }>(
        'load-child.ts',
        { ...loadArgs, prepackedCache: true },
        childSeconds,
      );
      const decode = await runChild<NonNullable<OursResult['loads']>['decode']>(
        'prepacked-decode.ts',
        {
          decoder: join(conversion.directory, 'onnx', `decoder_kv_buffer_${dtype}.onnx`),
          threads,
          context: 274,
          rounds: 16,
        },
        childSeconds,
      );
      loads = { ...loads, prepackedMs: warm.loadMs, decode };
      log(
        `ours ${dtype}: load without the prepacked cache ${(plain.loadMs / 1000).toFixed(1)} s, from it ${(warm.loadMs / 1000).toFixed(1)} s${loads.writingMs ? ` (writing it ${(loads.writingMs / 1000).toFixed(1)} s)` : ''}; decode step plain ${decode?.plain.medianMs.toFixed(0)} ms, from the entry ${decode?.entry.medianMs.toFixed(0)} ms`,
      );
    }
    log(`ours ${dtype}: measuring (decoder files ${(conversion.decoderBytes / 1e9).toFixed(2)} GB)`);
    const oursArgs = {
      folder: conversion.directory,
      dtype,
      threads,
      newTokens,
      prompts: PROMPTS,
      video: FIXTURE_VIDEO,
      image: join(REPO_DIR, 'fixtures/video-llava-tiny/images/photo_512x384.jpg'),
      sessionOptions,
    };
    const converted = {
      key: conversion.key,
      decoderBytes: conversion.decoderBytes,
      totalBytes: conversion.totalBytes,
    };
    const result = await runChild<Omit<OursResult, 'conversion'>>('ours-child.ts', oursArgs, childSeconds);
    report.ours.push({ ...result, kvCache: 'float32', ...(loads ? { loads } : {}), conversion: converted });
    save();
    if (int8CacheDtypes.includes(dtype) && executionProvider === 'cpu') {
      // The same questions with the int8 key/value cache (decoder_kv_int8, in place through runtime-node's runner).
      log(`ours ${dtype}, int8 cache: measuring`);
      const int8 = await runChild<Omit<OursResult, 'conversion'>>(
        'ours-child.ts',
        { ...oursArgs, loadOptions: { decoderCache: 'int8' } },
        childSeconds,
      );
      report.ours.push({ ...int8, kvCache: 'int8', conversion: converted });
      save();
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    report.skipped.push({ what: `ours ${dtype}`, reason: `failed: ${reason}` });
    log(`ours ${dtype} failed: ${reason}`);
  }
}

// 6. transformers.js on our files.
if (!values['skip-peers']) {
  for (const dtype of values['tfjs-dtypes'].split(',').filter(Boolean)) {
    const conversion = conversions.get(dtype);
    if (!conversion) {
      report.skipped.push({ what: `transformers.js ${dtype}`, reason: `no ${dtype} conversion in this run` });
      continue;
    }
    try {
      log(`transformers.js ${dtype}: measuring`);
      const result = await runChild<Omit<PeerResult, 'peer' | 'variant' | 'dtype'>>(
        'transformers-child.ts',
        {
          peers: peersDir(),
          folder: conversion.directory,
          dtype,
          view: join(cacheRoot(), `tfjs-view-${dtype}`),
          threads,
          newTokens: newTokens + 1,
          prompts: Object.fromEntries(
            values['tfjs-prompts']
              .split(',')
              .filter(Boolean)
              .map((name) => [name, promptIds[name as 'image' | 'video']]),
          ),
        },
        childSeconds,
      );
      report.peers.push({
        peer: 'transformers.js',
        variant: `@huggingface/transformers 4.3.1 on our ${dtype} ONNX files`,
        dtype,
        ...result,
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n').slice(0, 3).join(' ') : String(error);
      report.skipped.push({
        what: `transformers.js ${dtype}`,
        reason: `its loader or run failed on our files: ${reason}`,
      });
      log(`transformers.js ${dtype} failed: ${reason}`);
    }
  }
}

save();
const markdown = renderMarkdown(report);
process.stdout.write(`\n${markdown}\n`);
log(`results: ${jsonFile}`);
if (values.readme && !values['no-readme'] && layers.text === 32) {
  writeReadmeSection(join(BENCH_DIR, 'README.md'), markdown);
  log('bench/README.md updated');
}
log(`done in ${((report.totalSeconds ?? 0) / 60).toFixed(1)} min`);

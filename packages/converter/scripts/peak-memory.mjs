#!/usr/bin/env node
// Peak memory of a conversion at the real Video-LLaVA-7B layer dimensions (text 4096 wide, intermediate 11008,
// vocabulary 32064; CLIP ViT-L/14 towers 1024 wide) with few layers, without downloading anything.
//
//   pnpm --filter @video-llava/converter build
//   node packages/converter/scripts/peak-memory.mjs [--text-layers 2] [--vision-layers 24] [--dtype fp32,q4] [--keep DIR] [--run]
//
// Writes a synthetic float16 checkpoint (hub layout, 2 shards), then converts it in a child process and prints
// the child's peak resident memory (getrusage maxrss) next to the checkpoint and output sizes, as JSON on stdout.
// With --run, the decoder of each dtype (fp32: weights in external data past 2 GB) is then loaded in
// onnxruntime-node and run for one 4-token step with an empty past (not part of the measured process).
// Progress goes to stderr. Exit code 1 when the peak exceeds --max-rss-mib (default 512).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'text-layers': { type: 'string', default: '2' },
    'vision-layers': { type: 'string', default: '24' },
    dtype: { type: 'string', default: 'fp32' },
    'max-rss-mib': { type: 'string', default: '512' },
    keep: { type: 'string' },
    child: { type: 'boolean', default: false },
    run: { type: 'boolean', default: false },
  },
});
const converter = await import('@video-llava/converter/node');

if (values.child) {
  // The measured process: only the conversion runs here.
  const [checkpoint, output] = positionals;
  let last = 0;
  const report = await converter.convertCheckpoint(checkpoint, output, {
    dtypes: values.dtype.split(','),
    onProgress: (event) => {
      const now = Date.now();
      if (now - last < 2000 && event.done !== event.total) return;
      last = now;
      process.stderr.write(
        `convert ${event.file} ${((100 * event.done) / (event.total ?? 1)).toFixed(1)}% rss ${(process.memoryUsage.rss() / 2 ** 20).toFixed(0)} MiB\n`,
      );
    },
  });
  process.stdout.write(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS, report }));
  process.exit(0);
}

const root = values.keep ?? mkdtempSync(join(tmpdir(), 'converter-peak-memory-'));
try {
  const checkpoint = join(root, 'checkpoint');
  const layers = { text: Number(values['text-layers']), vision: Number(values['vision-layers']) };
  let started = performance.now();
  const written = await converter.writeSyntheticCheckpoint(checkpoint, {
    config: converter.videoLlava7bDimensions(layers),
    dtype: 'float16',
    shards: 2,
  });
  const generateSeconds = (performance.now() - started) / 1000;
  process.stderr.write(
    `synthetic checkpoint: ${(written.weightBytes / 2 ** 30).toFixed(2)} GiB in ${generateSeconds.toFixed(1)} s\n`,
  );
  started = performance.now();
  const child = spawnSync(
    process.execPath,
    [fileURLToPath(import.meta.url), '--child', '--dtype', values.dtype, checkpoint, join(root, 'out')],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 2 ** 20,
    },
  );
  if (child.status !== 0) throw new Error(`the conversion failed (exit ${child.status})`);
  const { maxRssKiB, report } = JSON.parse(child.stdout.toString('utf8'));
  const maxRssMiB = maxRssKiB / 1024;
  const result = {
    layers,
    dtypes: report.dtypes,
    checkpointBytes: written.weightBytes,
    outputBytes: report.totalBytes,
    largestFile: report.files.reduce((largest, file) => (file.bytes > largest.bytes ? file : largest)),
    conversionSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
    peakRssMiB: Number(maxRssMiB.toFixed(0)),
    boundMiB: Number(values['max-rss-mib']),
    files: report.files.map((file) => `${file.path} ${file.bytes}`),
  };
  if (values.run) result.decoderRuns = await runDecoders(join(root, 'out'), report.dtypes, layers.text);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (maxRssMiB > result.boundMiB) {
    process.stderr.write(`peak RSS ${maxRssMiB.toFixed(0)} MiB is over the bound of ${result.boundMiB} MiB\n`);
    process.exitCode = 1;
  }
} finally {
  if (values.keep === undefined) rmSync(root, { recursive: true, force: true });
}

/** Loads each dtype's decoder in onnxruntime-node and runs one step of 4 tokens with an empty past. */
async function runDecoders(directory, dtypes, layers) {
  const ort = await import('onnxruntime-node');
  const results = {};
  for (const dtype of dtypes) {
    const file = join(directory, 'onnx', `decoder_model_merged${dtype === 'fp32' ? '' : `_${dtype}`}.onnx`);
    const session = await ort.InferenceSession.create(file, { logSeverityLevel: 3 });
    const sequence = 4;
    const embeds = Float32Array.from({ length: sequence * 4096 }, (_, index) => Math.sin(index) * 0.1);
    const feeds = {
      inputs_embeds: new ort.Tensor('float32', embeds, [1, sequence, 4096]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(sequence).fill(1n), [1, sequence]),
      position_ids: new ort.Tensor(
        'int64',
        BigInt64Array.from({ length: sequence }, (_, index) => BigInt(index)),
        [1, sequence],
      ),
      num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(0n), []),
    };
    for (let layer = 0; layer < layers; layer++) {
      for (const kind of ['key', 'value'])
        feeds[`past_key_values.${layer}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, 32, 0, 128]);
    }
    const started = performance.now();
    const outputs = await session.run(feeds);
    const logits = outputs.logits.data;
    results[dtype] = {
      logitsDims: outputs.logits.dims,
      finite: logits.every(Number.isFinite),
      seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
    };
    await session.release();
  }
  return results;
}

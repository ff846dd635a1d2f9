// `pnpm bench attention [--context 274,2074] [--layers 32] [--threads 2] [--rounds 4] [--variants A,B]
// [--profile PREFIX]`: one decoding step's attention over the key/value cache at Video-LLaVA-7B's dimensions (32
// heads of 128, one query), for each cache layout and dtype a decoder could use on onnxruntime-node's CPU provider,
// against the float32 weight-streaming rate measured in the same run. This is the measurement behind the buffer
// decoder's channel-major cache (packages/converter/README.md): no weights, only the attention of `layers` layers
// over caches of `context` positions, each layer its own buffers. For the GroupQueryAttention variants the table also
// gives ONNX Runtime's own time of the run (its profiler's `model_run`): the rest of their step is onnxruntime-node
// copying the fetched present buffers into fresh JavaScript buffers, which the `in place` variants (runtime-node's
// in-place runner over ONNX Runtime's C API) do not do.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { Tensor } from '@video-llava/core';
import { GraphBuilder, createModel, encodeModel } from '@video-llava/onnx';
import { createInplaceSession } from '@video-llava/runtime-node';
import { median } from '../types.js';
import { measureStreamingGBps } from './ceilings.js';

const HEADS = 32;
const HEAD_DIM = 128;
const [UINT8, INT8] = [2, 3];

interface Variant {
  name: string;
  description: string;
  /** Element type of the stored keys and values. */
  dtype: 'float32' | 'float16' | 'int8';
  /** Keys stored `[hd, C]` (channel-major) instead of `[C, hd]`. */
  keysChannelMajor: boolean;
  /** Values stored `[hd, C]` instead of `[C, hd]`. */
  valuesChannelMajor: boolean;
  /** A contrib GroupQueryAttention over a past/present buffer instead of MatMul + Softmax + MatMul. */
  groupQueryAttention?: boolean;
  /**
   * GroupQueryAttention only: the present outputs are not fetched, so ONNX Runtime allocates them and copies the past
   * into them (no shared buffer) instead of onnxruntime-node copying them out.
   */
  presentNotFetched?: boolean;
  /**
   * GroupQueryAttention only: run through runtime-node's in-place runner (ONNX Runtime's C API, every output bound to
   * the caller's buffer), so the shared buffer is neither copied out nor copied in.
   */
  inplace?: boolean;
  /** int8 only: the cache is MatMulInteger's A (big side, not packed per call): keys `[C,hd]`, values `[hd,C]`. */
  integerCacheAsA?: boolean;
  /** With integerCacheAsA: values stay float32 channel-major, only keys are int8. */
  valuesFloat?: boolean;
}

const ALL_VARIANTS: Variant[] = [
  {
    name: 'positions-major f32',
    description: 'K q^T and p V over [C,hd] (the earlier buffer decoder)',
    dtype: 'float32',
    keysChannelMajor: false,
    valuesChannelMajor: false,
  },
  {
    name: 'channel-major f32',
    description: 'q K^T and p (V^T)^T over [hd,C] (the buffer decoder now)',
    dtype: 'float32',
    keysChannelMajor: true,
    valuesChannelMajor: true,
  },
  {
    name: 'f16 cast to f32',
    description: 'float16 [hd,C] cache, Cast to float32 in the graph',
    dtype: 'float16',
    keysChannelMajor: true,
    valuesChannelMajor: true,
  },
  {
    name: 'int8 MatMulInteger',
    description: 'int8 [hd,C] keys, [C,hd] values, per-position scales',
    dtype: 'int8',
    keysChannelMajor: true,
    valuesChannelMajor: false,
  },
  {
    name: 'int8 cache as A',
    description: 'int8 [C,hd] keys, [hd,C] values, per-position scales, cache on MatMulInteger A side',
    dtype: 'int8',
    keysChannelMajor: false,
    valuesChannelMajor: true,
    integerCacheAsA: true,
  },
  {
    name: 'int8 keys as A with f32 values',
    description: 'int8 [C,hd] keys on MatMulInteger A side, float32 [hd,C] values',
    dtype: 'int8',
    keysChannelMajor: false,
    valuesChannelMajor: true,
    integerCacheAsA: true,
    valuesFloat: true,
  },
  {
    name: 'GroupQueryAttention f32',
    description: 'contrib GroupQueryAttention, past and present sharing one buffer',
    dtype: 'float32',
    keysChannelMajor: false,
    valuesChannelMajor: false,
    groupQueryAttention: true,
  },
  {
    name: 'GroupQueryAttention int8',
    description: 'its int8 cache (kv_cache_bit_width 8, per-channel scales), past and present sharing one buffer',
    dtype: 'int8',
    keysChannelMajor: false,
    valuesChannelMajor: false,
    groupQueryAttention: true,
  },
  {
    name: 'GroupQueryAttention int8 in place',
    description: 'its int8 cache, one buffer, through the in-place runner (no copy after the run)',
    dtype: 'int8',
    keysChannelMajor: false,
    valuesChannelMajor: false,
    groupQueryAttention: true,
    inplace: true,
  },
  {
    name: 'GroupQueryAttention f32 in place',
    description: 'float32 cache, one buffer, through the in-place runner',
    dtype: 'float32',
    keysChannelMajor: false,
    valuesChannelMajor: false,
    groupQueryAttention: true,
    inplace: true,
  },
  {
    name: 'GroupQueryAttention int8 present not fetched',
    description: 'the same, present left to ONNX Runtime (it copies the past in)',
    dtype: 'int8',
    keysChannelMajor: false,
    valuesChannelMajor: false,
    groupQueryAttention: true,
    presentNotFetched: true,
  },
];

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] !== undefined ? process.argv[index + 1]! : fallback;
}

function buildAttention(variant: Variant, layers: number): Uint8Array {
  const g = new GraphBuilder(variant.name);
  const query = g.input('q', 'float32', [1, 1, HEADS * HEAD_DIM]);
  const headShape = g.constant('int64', [0, 0, HEADS, HEAD_DIM]);
  const merge = g.constant('int64', [0, 0, HEADS * HEAD_DIM]);
  const last = (x: string) => g.op('Transpose', [x], { perm: [0, 1, 3, 2] });
  const stored = (name: string, channelMajor: boolean) =>
    g.input(
      name,
      variant.valuesFloat && name.startsWith('v') ? 'float32' : variant.dtype,
      channelMajor ? [1, HEADS, HEAD_DIM, 'C'] : [1, HEADS, 'C', HEAD_DIM],
    );
  let x = query;
  // Symmetric quantization over the last axis: `scale` = max(magnitudes) / levels, and `quantized(of)` rounds `of`
  // (the values or a transposed view of them) to that scale as `type` (ONNX 3: int8, 2: uint8).
  const quantize = (magnitudes: string, levels: number, type: number) => {
    const scale = g.op('Div', [
      g.op('ReduceMax', [magnitudes], { axes: [3], keepdims: 1 }),
      g.constant('float32', levels),
    ]);
    return {
      scale,
      quantized: (of: string) => g.op('Cast', [g.op('Round', [g.op('Div', [of, scale])])], { to: type }),
    };
  };
  if (variant.groupQueryAttention) {
    const seqlens = g.input('seqlens_k', 'int32', [1]);
    const total = g.input('total', 'int32', []);
    // The int8 cache: symmetric, one float32 scale per channel of each head (inputs 12 and 13, [kvH, 1, hd]).
    const quantized = variant.dtype === 'int8';
    const scales = quantized
      ? [
          '',
          '',
          '',
          '',
          '',
          g.input('k_scale', 'float32', [HEADS, 1, HEAD_DIM]),
          g.input('v_scale', 'float32', [HEADS, 1, HEAD_DIM]),
        ]
      : [];
    for (let layer = 0; layer < layers; layer++) {
      const [output, presentKey, presentValue] = g.node(
        'GroupQueryAttention',
        [x, x, x, stored(`k${layer}`, false), stored(`v${layer}`, false), seqlens, total, ...scales],
        {
          num_heads: HEADS,
          kv_num_heads: HEADS,
          ...(quantized ? { k_quant_type: 'PER_CHANNEL', v_quant_type: 'PER_CHANNEL', kv_cache_bit_width: 8 } : {}),
        },
        { domain: 'com.microsoft', outputs: 3 },
      );
      g.output(presentKey!, variant.dtype, [1, HEADS, 'C', HEAD_DIM], `present_k${layer}`);
      g.output(presentValue!, variant.dtype, [1, HEADS, 'C', HEAD_DIM], `present_v${layer}`);
      x = output!;
    }
  } else {
    const bias = g.input('bias', 'float32', [1, 1, 1, 'C']);
    for (let layer = 0; layer < layers; layer++) {
      const keys = stored(`k${layer}`, variant.keysChannelMajor);
      const values = stored(`v${layer}`, variant.valuesChannelMajor);
      const q = g.op('Transpose', [g.op('Reshape', [x, headShape])], { perm: [0, 2, 1, 3] });
      let scores: string;
      if (variant.integerCacheAsA) {
        const keyScales = g.input(`ks${layer}`, 'float32', [1, HEADS, 1, 'C']);
        const { scale: queryScale, quantized } = quantize(g.op('Abs', [q]), 127, INT8);
        const integer = g.op('MatMulInteger', [keys, quantized(last(q))]); // [1,H,C,1]
        const row = g.op('Reshape', [g.op('Cast', [integer], { to: 1 }), g.constant('int64', [0, 0, 1, -1])]);
        scores = g.op('Mul', [g.op('Mul', [row, keyScales]), queryScale]);
      } else if (variant.dtype === 'int8') {
        const keyScales = g.input(`ks${layer}`, 'float32', [1, HEADS, 1, 'C']);
        const { scale: queryScale, quantized } = quantize(g.op('Abs', [q]), 127, INT8);
        const integer = g.op('MatMulInteger', [quantized(q), keys]);
        scores = g.op('Mul', [g.op('Mul', [g.op('Cast', [integer], { to: 1 }), keyScales]), queryScale]);
      } else {
        const k = variant.dtype === 'float16' ? g.op('Cast', [keys], { to: 1 }) : keys;
        scores = variant.keysChannelMajor ? g.op('MatMul', [q, k]) : last(g.op('MatMul', [k, last(q)]));
      }
      const probabilities = g.op('Softmax', [g.op('Add', [scores, bias])], { axis: -1 });
      let context: string;
      if (variant.integerCacheAsA && variant.valuesFloat) {
        context = g.op('MatMul', [probabilities, last(values)]);
      } else if (variant.integerCacheAsA) {
        const valueScales = g.input(`vs${layer}`, 'float32', [1, HEADS, 1, 'C']);
        const weighted = g.op('Mul', [probabilities, valueScales]);
        const { scale, quantized } = quantize(weighted, 127, INT8);
        const integer = g.op('MatMulInteger', [values, quantized(last(weighted))]); // [1,H,hd,1]
        context = g.op('Mul', [
          g.op('Reshape', [g.op('Cast', [integer], { to: 1 }), g.constant('int64', [0, 0, 1, -1])]),
          scale,
        ]);
      } else if (variant.dtype === 'int8') {
        const valueScales = g.input(`vs${layer}`, 'float32', [1, HEADS, 1, 'C']);
        const weighted = g.op('Mul', [probabilities, valueScales]);
        const { scale, quantized } = quantize(weighted, 255, UINT8);
        context = g.op('Mul', [g.op('Cast', [g.op('MatMulInteger', [quantized(weighted), values])], { to: 1 }), scale]);
      } else {
        const v = variant.dtype === 'float16' ? g.op('Cast', [values], { to: 1 }) : values;
        context = g.op('MatMul', [probabilities, variant.valuesChannelMajor ? last(v) : v]);
      }
      x = g.op('Reshape', [g.op('Transpose', [context], { perm: [0, 2, 1, 3] }), merge]);
    }
  }
  g.output(x, 'float32', [1, 1, HEADS * HEAD_DIM], 'out');
  return encodeModel(createModel(g.build(), { opsetImports: { '': 17, 'com.microsoft': 1 } }));
}

function filled(dtype: Variant['dtype'], length: number): Float32Array | Uint16Array | Int8Array {
  if (dtype === 'float16') return new Uint16Array(length).map((_, i) => 0x3000 + (i % 1024));
  if (dtype === 'int8') return new Int8Array(length).map((_, i) => ((i * 7) % 200) - 100);
  return new Float32Array(length).map((_, i) => Math.sin(i));
}

// `--variants name,name`: only those (e.g. `--variants 'channel-major f32,int8 cache as A'`).
const chosen = option('variants', '');
const VARIANTS = chosen ? ALL_VARIANTS.filter((variant) => chosen.split(',').includes(variant.name)) : ALL_VARIANTS;
if (VARIANTS.length === 0)
  throw new Error(`--variants ${chosen}: none of ${ALL_VARIANTS.map((variant) => variant.name).join(', ')}`);
// `--profile PREFIX`: onnxruntime's per-node profile of each session, written to PREFIX-<variant>-<context>_*.json.
const profile = option('profile', '');
const contexts = option('context', '274,2074').split(',').map(Number);
const layers = Number(option('layers', '32'));
const threads = Number(option('threads', '2'));
const streaming = await measureStreamingGBps(threads);
process.stdout.write(
  `# attention of one decoding step: ${layers} layers x ${HEADS} heads x ${HEAD_DIM}, ${threads} threads; float32 streaming ${streaming.toFixed(1)} GB/s\n`,
);
process.stdout.write(
  '| context | variant | ms | in ONNX Runtime ms | cache GB | GB/s | of streaming |\n| --- | --- | --- | --- | --- | --- | --- |\n',
);

/** The same buffers as core tensors (the in-place runner's feeds and outputs). */
function asCoreTensors(tensors: Record<string, ort.Tensor>): Record<string, Tensor> {
  return Object.fromEntries(
    Object.entries(tensors).map(([name, tensor]) => [
      name,
      new Tensor(tensor.type as 'float32', tensor.data as Float32Array, tensor.dims),
    ]),
  );
}

/**
 * Median of the `model_run` events (ONNX Runtime's own time of each run) in the profile a session wrote with
 * `profileFilePrefix` `prefix` (onnxruntime adds `_<date>.json`; the newest such file is read).
 */
function medianModelRunMs(prefix: string): number {
  const folder = dirname(prefix);
  const [file] = readdirSync(folder)
    .filter((name) => name.startsWith(`${basename(prefix)}_`) && name.endsWith('.json'))
    .sort()
    .reverse();
  if (file === undefined) throw new Error(`no onnxruntime profile ${prefix}_*.json was written`);
  const events = JSON.parse(readFileSync(join(folder, file), 'utf8')) as { name: string; dur: number }[];
  // The first run is the warm-up, as in the wall-clock times.
  return median(
    events
      .filter((event) => event.name === 'model_run')
      .slice(1)
      .map((event) => event.dur / 1000),
  );
}
// The variants share the memory bus with whatever else the machine runs: each is timed in several rounds, interleaved
// with the others, and reported by its median over all rounds.
const ROUNDS = Number(option('rounds', '4'));
for (const context of contexts) {
  const capacity = context + 64;
  const prepared = [];
  for (const variant of VARIANTS) {
    let bindingSession: ort.InferenceSession | undefined;
    // GroupQueryAttention is always profiled for its time inside ONNX Runtime: into a folder of its own, or where
    // --profile says.
    const ownProfile = variant.groupQueryAttention && !profile ? mkdtempSync(join(tmpdir(), 'attention-')) : undefined;
    const profilePrefix = ownProfile
      ? join(ownProfile, 'run')
      : profile && `${profile}-${variant.name.replace(/\W+/g, '_')}-${context}`;
    const model = buildAttention(variant, layers);
    let session: { endProfiling(): unknown; release(): Promise<void> };
    let inplaceRun: (() => Promise<void>) | undefined;
    let modelFolder: string | undefined;
    if (variant.inplace) {
      modelFolder = mkdtempSync(join(tmpdir(), 'attention-model-'));
      writeFileSync(join(modelFolder, 'model.onnx'), model);
      const inplace = await createInplaceSession(join(modelFolder, 'model.onnx'), {
        intraOpThreads: threads,
        ...(profilePrefix ? { profilePrefix } : {}),
      });
      session = inplace;
      inplaceRun = () => inplace.run(asCoreTensors(feeds), asCoreTensors(fetches as Record<string, ort.Tensor>));
    } else {
      const binding = await ort.InferenceSession.create(model, {
        logSeverityLevel: 3,
        intraOpNumThreads: threads,
        ...(profilePrefix ? { enableProfiling: true, profileFilePrefix: profilePrefix } : {}),
      });
      session = binding;
      inplaceRun = undefined;
      bindingSession = binding;
    }
    const feeds: Record<string, ort.Tensor> = {
      q: new ort.Tensor(
        'float32',
        new Float32Array(HEADS * HEAD_DIM).map((_, i) => Math.sin(i)),
        [1, 1, HEADS * HEAD_DIM],
      ),
    };
    const fetches: Record<string, ort.Tensor | null> = {
      out: variant.inplace
        ? new ort.Tensor('float32', new Float32Array(HEADS * HEAD_DIM), [1, 1, HEADS * HEAD_DIM])
        : null,
    };
    const mask = new Float32Array(capacity).fill(-1e9).fill(0, 0, context + 1);
    if (variant.groupQueryAttention) {
      feeds.seqlens_k = new ort.Tensor('int32', Int32Array.of(context), [1]);
      feeds.total = new ort.Tensor('int32', Int32Array.of(context + 1), []);
      if (variant.dtype === 'int8')
        for (const name of ['k_scale', 'v_scale'])
          feeds[name] = new ort.Tensor('float32', new Float32Array(HEADS * HEAD_DIM).fill(0.01), [HEADS, 1, HEAD_DIM]);
    } else feeds.bias = new ort.Tensor('float32', mask, [1, 1, 1, capacity]);
    for (let layer = 0; layer < layers; layer++) {
      for (const [name, channelMajor] of [
        [`k${layer}`, variant.keysChannelMajor],
        [`v${layer}`, variant.valuesChannelMajor],
      ] as const) {
        const dims = channelMajor ? [1, HEADS, HEAD_DIM, capacity] : [1, HEADS, capacity, HEAD_DIM];
        const dtype = variant.valuesFloat && name.startsWith('v') ? 'float32' : variant.dtype;
        feeds[name] = new ort.Tensor(dtype, filled(dtype, HEADS * HEAD_DIM * capacity), dims);
        // GroupQueryAttention writes the new position into the buffer it reads: present is the same tensor.
        if (variant.groupQueryAttention && !variant.presentNotFetched) fetches[`present_${name}`] = feeds[name]!;
      }
      if (variant.dtype === 'int8' && !variant.groupQueryAttention) {
        feeds[`ks${layer}`] = new ort.Tensor('float32', new Float32Array(HEADS * capacity).fill(0.01), [
          1,
          HEADS,
          1,
          capacity,
        ]);
        if (!variant.valuesFloat)
          feeds[`vs${layer}`] = new ort.Tensor('float32', new Float32Array(HEADS * capacity).fill(0.01), [
            1,
            HEADS,
            1,
            capacity,
          ]);
      }
    }
    const run = async () => {
      if (inplaceRun) await inplaceRun();
      else if (variant.groupQueryAttention) await bindingSession!.run(feeds, fetches);
      else await bindingSession!.run(feeds);
    };
    await run();
    prepared.push({ variant, session, run, ownProfile, modelFolder, profilePrefix, times: [] as number[] });
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const entry of prepared) {
      // GroupQueryAttention over a fetched float32 present takes seconds per step here: one step per round is plenty.
      const slow = entry.variant.groupQueryAttention && entry.variant.dtype === 'float32' && !entry.variant.inplace;
      for (let step = 0; step < (slow ? 1 : 3); step++) {
        const start = performance.now();
        await entry.run();
        entry.times.push(performance.now() - start);
      }
    }
  }
  for (const { variant, session, ownProfile, modelFolder, profilePrefix, times } of prepared) {
    if (profilePrefix) session.endProfiling();
    await session.release();
    const inRuntime = variant.groupQueryAttention && profilePrefix ? medianModelRunMs(profilePrefix).toFixed(1) : '';
    if (ownProfile) rmSync(ownProfile, { recursive: true, force: true });
    if (modelFolder) rmSync(modelFolder, { recursive: true, force: true });
    const ms = median(times);
    const bytesPerValue = variant.dtype === 'float32' ? 4 : variant.dtype === 'float16' ? 2 : 1;
    const bytes = layers * HEADS * HEAD_DIM * context * (bytesPerValue + (variant.valuesFloat ? 4 : bytesPerValue));
    const rate = bytes / ms / 1e6;
    process.stdout.write(
      `| ${context} | ${variant.name}: ${variant.description} | ${ms.toFixed(1)} | ${inRuntime} | ${(bytes / 1e9).toFixed(2)} | ${rate.toFixed(1)} | ${(rate / streaming).toFixed(2)} |\n`,
    );
  }
}

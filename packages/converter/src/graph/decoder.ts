import type { VideoLlavaConfig } from '@video-llava/config';
import type { WeightPlanner } from '../weight-plan.js';
import { TENSOR_DATA_TYPE_CODES, attribute } from '@video-llava/onnx';
import { activation, castTo, rmsNorm, scalar, softmax } from './layers.js';

/** Options of {@link buildDecoder}. */
export interface DecoderGraphOptions {
  /**
   * Also output `hidden_states.{i}` for i = 1..L (the output of layer i-1; the last one after the final norm),
   * like transformers' `output_hidden_states`. For debugging and parity tests.
   * @default false
   */
  hiddenStateOutputs?: boolean;
  /**
   * Use ONNX Runtime's fused contrib ops where the model allows: `SimplifiedLayerNormalization` (RMSNorm),
   * `RotaryEmbedding` and `MultiHeadAttention` (com.microsoft; attention only when `num_key_value_heads` equals
   * `num_attention_heads`, as in Video-LLaVA-7B). The files then need ONNX Runtime; the standard-op graph runs
   * anywhere.
   * @default false
   */
  contribOps?: boolean;
  /**
   * Add the `num_logits_to_keep` input (int64, a scalar or `[1]`), as Hugging Face's exporters name it: the
   * logits of only the last N positions (`hidden_states[:, -N:]` before `lm_head`, 0 = all, as transformers'
   * `logits_to_keep`). Generation needs only the last position's, which spares the `lm_head` matmul and the
   * `[B,S,V]` output over a long prompt. Without it the decoder computes every position's logits, and callers
   * need not feed it (an older contract some callers may still rely on).
   * @default true
   */
  numLogitsToKeepInput?: boolean;
  /**
   * What the decoder returns of the key/value cache:
   * - `'present'`: `present.{i}.key|value [B,kvH,P+S,hd]`, the past with the new positions appended (Hugging
   *   Face's contract; the caller hands them back as the next past).
   * - `'new'`: `new_key_values.{i}.key|value [B,kvH,hd,S]`, only the new positions. The caller keeps the cache in
   *   buffers of its own and writes them in; `past_key_values.*` may then hold more positions than are filled
   *   (a capacity), the unfilled ones masked out by `attention_mask`. No step copies or returns the whole cache,
   *   which at 2000 positions of a 7B model is 1 GB per step. Keys and values are channel-major here (`past`
   *   `[B,kvH,hd,C]`, positions last): a decoding step's two products, `q K^T` and `p V`, then read the cache as
   *   rows of positions, which ONNX Runtime's CPU kernels stream faster than the `[C,hd]` layout.
   * - `'int8'`: ONNX Runtime's `GroupQueryAttention` (com.microsoft) keeps the cache as int8, one float32 scale per
   *   channel of each key/value head, in buffers the caller owns: `past_key_values.{i}.key|value` int8
   *   `[B,kvH,C,hd]` (C a capacity), and `present.{i}.key|value` are the same buffers, written in place (the
   *   caller binds each present output to its past input: `@video-llava/runtime-node`'s in-place runner). The
   *   positions filled are given by `seqlens_k` int32 `[B]` (filled positions after this run, minus one) and
   *   `total_sequence_length` int32 scalar, instead of `attention_mask` (no padding: every row the same length).
   *   The scales are `kv_scales.{i}.key|value` float32 `[kvH,1,hd]`: the first run over an empty past computes
   *   them from its own keys and values (largest magnitude per channel x {@link INT8_CACHE_SCALE_MARGIN} / 127)
   *   and ignores the fed ones; later runs use those fed; `present_scales.{i}.key|value` returns the scales used.
   *   A quarter of the float32 cache's bytes, so a step at 2000 positions reads 0.5 GB of cache where float32
   *   reads 2 GB; the cost is the int8 rounding of every cached key and value (the converter README measures it).
   * @default 'present'
   */
  cacheOutputs?: 'present' | 'new' | 'int8';
}

/**
 * Headroom of the int8 cache's scales over the largest magnitude the first run saw in each channel: later
 * positions up to this factor larger are still represented, larger ones are clipped.
 */
export const INT8_CACHE_SCALE_MARGIN = 2;

/**
 * The rotary inverse frequencies the way transformers computes them in float32:
 * `1 / (theta ** (arange(0, dim, 2) / dim))`, divided by `factor` for `linear` scaling.
 */
export function rotaryInverseFrequencies(headDim: number, theta: number, factor: number): Float32Array {
  const out = new Float32Array(headDim / 2);
  for (let index = 0; index < out.length; index++) {
    const exponent = Math.fround(Math.fround(2 * index) / headDim);
    let inverse = Math.fround(1 / Math.fround(theta ** exponent));
    if (factor !== 1) inverse = Math.fround(inverse / factor);
    out[index] = inverse;
  }
  return out;
}

/**
 * cos and sin of every position's rotary angles, `[positions, headDim / 2]`, for `RotaryEmbedding`: the angle
 * `position * inverse_frequency` rounded to float32 first, as transformers computes it.
 */
export function rotaryCaches(
  headDim: number,
  theta: number,
  factor: number,
  positions: number,
): { cos: Float32Array; sin: Float32Array } {
  const inverse = rotaryInverseFrequencies(headDim, theta, factor);
  const half = headDim / 2;
  const cos = new Float32Array(positions * half);
  const sin = new Float32Array(positions * half);
  for (let position = 0; position < positions; position++) {
    for (let index = 0; index < half; index++) {
      const angle = Math.fround(position * inverse[index]!);
      cos[position * half + index] = Math.cos(angle);
      sin[position * half + index] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/**
 * Builds `decoder_model_merged`: the LLaMA decoder with a KV cache, one graph for the first step (empty past,
 * `past_sequence_length` 0) and the following ones.
 *
 * Inputs: `inputs_embeds [B,S,D]` f32, `attention_mask [B,P+S]` i64 (1 = attend; left padding allowed),
 * `position_ids [B,S]` i64, `past_key_values.{i}.key|value [B,kvH,P,hd]` f32, `num_logits_to_keep` i64 scalar
 * (see {@link DecoderGraphOptions.numLogitsToKeepInput}).
 * Outputs: `logits [B,K,V]` f32 (K = `num_logits_to_keep` clamped to S, or S when it is 0 or absent),
 * `present.{i}.key|value [B,kvH,P+S,hd]` f32.
 *
 * Attention allows key j for query i (at absolute position P+i) when `j <= P+i` and `attention_mask[b,j]` is 1.
 */
export function buildDecoder(
  planner: WeightPlanner,
  config: VideoLlavaConfig,
  options: DecoderGraphOptions = {},
): void {
  const graph = planner.graph;
  const type = planner.floatType;
  const text = config.textConfig;
  const {
    hiddenSize: width,
    numAttentionHeads: heads,
    numKeyValueHeads: kvHeads,
    headDim,
    numHiddenLayers: layers,
  } = text;
  const groups = heads / kvHeads;
  // Fused ops compute in float32 (fp16 keeps the standard graph, whose masking stays finite in float16).
  const contrib = (options.contribOps ?? false) && type === 'float32';
  const newOnly = options.cacheOutputs === 'new';
  const int8Cache = options.cacheOutputs === 'int8';
  if (int8Cache && !contrib)
    throw new Error('the int8 cache decoder needs the contrib ops in a float32-computing format');
  const fusedAttention = contrib && groups === 1 && !newOnly && !int8Cache;

  const embeds = graph.input('inputs_embeds', 'float32', ['batch_size', 'sequence_length', width]);
  // The int8 cache decoder has no attention mask: GroupQueryAttention takes the lengths instead.
  const lengths = int8Cache
    ? {
        seqlens: graph.input('seqlens_k', 'int32', ['batch_size']),
        total: graph.input('total_sequence_length', 'int32', []),
      }
    : undefined;
  const attentionMask = lengths
    ? undefined
    : graph.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const positionIds = graph.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  const past: Array<[string, string]> = [];
  const pastScales: Array<[string, string]> = [];
  // The buffer layout keeps positions last (see DecoderGraphOptions.cacheOutputs).
  const pastShape = newOnly
    ? ['batch_size', kvHeads, headDim, 'past_sequence_length']
    : ['batch_size', kvHeads, int8Cache ? 'capacity' : 'past_sequence_length', headDim];
  for (let layer = 0; layer < layers; layer++) {
    past.push([
      graph.input(`past_key_values.${layer}.key`, int8Cache ? 'int8' : 'float32', pastShape),
      graph.input(`past_key_values.${layer}.value`, int8Cache ? 'int8' : 'float32', pastShape),
    ]);
    if (int8Cache)
      pastScales.push([
        graph.input(`kv_scales.${layer}.key`, 'float32', [kvHeads, 1, headDim]),
        graph.input(`kv_scales.${layer}.value`, 'float32', [kvHeads, 1, headDim]),
      ]);
  }
  const numLogitsToKeep =
    (options.numLogitsToKeepInput ?? true) ? graph.input('num_logits_to_keep', 'int64', []) : undefined;

  // Mask [B,1,S,T]: causal (key position <= query position) and not padding. The int8 cache decoder has none:
  // GroupQueryAttention masks by the lengths it is given.
  const maskOf = (mask: string): string => {
    const toScalar = (value: string) => graph.op('Squeeze', [value, graph.constant('int64', [0])]);
    const total = toScalar(graph.op('Shape', [mask], { start: 1, end: 2 }));
    const current = toScalar(graph.op('Shape', [embeds], { start: 1, end: 2 }));
    const pastLength = graph.op('Sub', [total, current]);
    const one = graph.constant('int64', 1);
    const keyPositions = graph.op('Range', [graph.constant('int64', 0), total, one]);
    const queryPositions = graph.op('Range', [pastLength, total, one]);
    const causal = graph.op('LessOrEqual', [
      graph.op('Unsqueeze', [keyPositions, graph.constant('int64', [0])]),
      graph.op('Unsqueeze', [queryPositions, graph.constant('int64', [1])]),
    ]);
    const padding = graph.op('Unsqueeze', [castTo(graph, mask, 'int64', 'bool'), graph.constant('int64', [1, 2])]);
    return graph.op('And', [graph.op('Unsqueeze', [causal, graph.constant('int64', [0, 1])]), padding]);
  };
  const allowed = attentionMask ? maskOf(attentionMask) : '';
  const masked = graph.constant('float32', -3.4028234663852886e38);

  // Rotary tables [B,1,S,hd], computed in float32 like transformers, then cast to the activation type.
  const inverse = graph.constantTensor(
    {
      dataType: 'float32',
      dims: [headDim / 2],
      data: rotaryInverseFrequencies(headDim, text.rope.ropeTheta, text.rope.factor),
    },
    'rotary_inverse_frequencies',
  );
  const positions = graph.op('Unsqueeze', [
    castTo(graph, positionIds, 'int64', 'float32'),
    graph.constant('int64', [2]),
  ]);
  const frequencies = graph.op('Mul', [positions, inverse]);
  const angles = graph.op('Unsqueeze', [
    graph.op('Concat', [frequencies, frequencies], { axis: -1 }),
    graph.constant('int64', [1]),
  ]);
  const cos = castTo(graph, graph.op('Cos', [angles]), 'float32', type);
  const sin = castTo(graph, graph.op('Sin', [angles]), 'float32', type);
  const half = headDim / 2;
  const firstHalf = [graph.constant('int64', [0]), graph.constant('int64', [half]), graph.constant('int64', [-1])];
  const secondHalf = [
    graph.constant('int64', [half]),
    graph.constant('int64', [headDim]),
    graph.constant('int64', [-1]),
  ];
  const rotate = (x: string): string => {
    const x1 = graph.op('Slice', [x, ...firstHalf]);
    const x2 = graph.op('Slice', [x, ...secondHalf]);
    const rotated = graph.op('Concat', [graph.op('Neg', [x2]), x1], { axis: -1 });
    return graph.op('Add', [graph.op('Mul', [x, cos]), graph.op('Mul', [rotated, sin])]);
  };

  let rotary3d: ((x: string, headCount: number) => string) | undefined;
  let attentionBias: string | undefined;
  if (contrib) {
    const { cos: cosCache, sin: sinCache } = rotaryCaches(
      headDim,
      text.rope.ropeTheta,
      text.rope.factor,
      text.maxPositionEmbeddings,
    );
    const cosName = graph.constantTensor(
      { dataType: 'float32', dims: [text.maxPositionEmbeddings, half], data: cosCache },
      'rotary_cos_cache',
    );
    const sinName = graph.constantTensor(
      { dataType: 'float32', dims: [text.maxPositionEmbeddings, half], data: sinCache },
      'rotary_sin_cache',
    );
    rotary3d = (x, headCount) =>
      graph.op(
        'RotaryEmbedding',
        [x, positionIds, cosName, sinName],
        { interleaved: 0, num_heads: headCount },
        { domain: 'com.microsoft' },
      );
    if (fusedAttention) attentionBias = graph.op('Where', [allowed, graph.constant('float32', 0), masked]);
  }
  const norm = (x: string, weight: string) =>
    contrib
      ? graph.op('SimplifiedLayerNormalization', [x, planner.tensor(weight)], {
          axis: -1,
          epsilon: attribute.float(text.rmsNormEps),
          stash_type: 1,
        })
      : rmsNorm(graph, x, planner.tensor(weight), text.rmsNormEps, type);

  const queryShape = graph.constant('int64', [0, 0, heads, headDim]);
  const kvShape = graph.constant('int64', [0, 0, kvHeads, headDim]);
  const grouped =
    groups === 1
      ? undefined
      : {
          query: graph.constant('int64', [0, kvHeads, -1, headDim]),
          scoresByHead: graph.constant('int64', [0, heads, -1, 0]),
          scoresByGroup: graph.constant('int64', [0, kvHeads, -1, 0]),
          contextByHead: graph.constant('int64', [0, heads, -1, headDim]),
        };
  const mergeShape = graph.constant('int64', [0, 0, heads * headDim]);
  const scale = scalar(graph, type, headDim ** -0.5);
  const bias = (name: string, enabled: boolean) => (enabled ? `${name}.bias` : undefined);

  const toHeads = (x: string, shape: string) =>
    graph.op('Transpose', [graph.op('Reshape', [x, shape])], { perm: [0, 2, 1, 3] });
  const lastAxis = graph.constant('int64', [-1]);
  const transposeLast = (x: string) => graph.op('Transpose', [x], { perm: [0, 1, 3, 2] });
  /**
   * `<prefix>.key` and `<prefix>.value` outputs, float32 `[B,kvH,<positions>,hd]`, or `[B,kvH,hd,<positions>]`
   * (`positionsLast`: the tensors are transposed here).
   */
  const outputKeyValue = (
    prefix: string,
    key: string,
    value: string,
    positions: string,
    positionsLast = false,
  ): void => {
    for (const [name, tensor] of [
      ['key', key],
      ['value', value],
    ] as const) {
      graph.output(
        castTo(graph, positionsLast ? transposeLast(tensor) : tensor, type, 'float32'),
        'float32',
        positionsLast ? ['batch_size', kvHeads, headDim, positions] : ['batch_size', kvHeads, positions, headDim],
        `${prefix}.${name}`,
      );
    }
  };
  /** Queries `[B,H,S,hd]` and keys and values `[B,kvH,S,hd]` of a layer, rotary embeddings applied. */
  const projectHeads = (project: (name: string) => string): { query: string; key: string; value: string } => ({
    query: rotary3d
      ? toHeads(rotary3d(project('q_proj'), heads), queryShape)
      : rotate(toHeads(project('q_proj'), queryShape)),
    key: rotary3d
      ? toHeads(rotary3d(project('k_proj'), kvHeads), kvShape)
      : rotate(toHeads(project('k_proj'), kvShape)),
    value: toHeads(project('v_proj'), kvShape),
  });
  /**
   * Attention over a past that may hold unfilled capacity, returning only the new keys and values: the past and the
   * new positions are scored separately, the scores joined for one softmax, and the context summed from the two
   * parts. The past is channel-major (`[B,kvH,hd,C]`): its scores are `q K^T` with `K^T` as stored, and its context
   * `p (V^T)^T`, a MatMul over a Transpose that ONNX Runtime fuses into one `FusedMatMul` (`transB`), so the cache
   * is never copied.
   */
  const attendWithNewOutputs = (layer: number, project: (name: string) => string): string => {
    const [pastKey, pastValue] = past[layer]!;
    const { query, key, value } = projectHeads(project);
    outputKeyValue(`new_key_values.${layer}`, key, value, 'sequence_length', true);
    const cachedKey = castTo(graph, pastKey, 'float32', type);
    const cachedValue = castTo(graph, pastValue, 'float32', type);
    const groupedQuery = grouped ? graph.op('Reshape', [query, grouped.query]) : query;
    const pastScores = graph.op('MatMul', [groupedQuery, cachedKey]);
    const newScores = graph.op('MatMul', [groupedQuery, transposeLast(key)]);
    let scores = graph.op('Concat', [pastScores, newScores], { axis: -1 });
    if (grouped) scores = graph.op('Reshape', [scores, grouped.scoresByHead]);
    scores = castTo(graph, graph.op('Mul', [scores, scale]), type, 'float32');
    let probabilities = softmax(graph, graph.op('Where', [allowed, scores, masked]), 'float32');
    probabilities = castTo(graph, probabilities, 'float32', type);
    if (grouped) probabilities = graph.op('Reshape', [probabilities, grouped.scoresByGroup]);
    const pastPositions = graph.op('Shape', [pastKey], { start: 3, end: 4 });
    const pastProbabilities = graph.op('Slice', [probabilities, graph.constant('int64', [0]), pastPositions, lastAxis]);
    const newProbabilities = graph.op('Slice', [
      probabilities,
      pastPositions,
      graph.constant('int64', [Number.MAX_SAFE_INTEGER]),
      lastAxis,
    ]);
    let context = graph.op('Add', [
      graph.op('MatMul', [pastProbabilities, transposeLast(cachedValue)]),
      graph.op('MatMul', [newProbabilities, value]),
    ]);
    if (grouped) context = graph.op('Reshape', [context, grouped.contextByHead]);
    return graph.op('Reshape', [graph.op('Transpose', [context], { perm: [0, 2, 1, 3] }), mergeShape]);
  };

  /**
   * Attention over the int8 cache: `GroupQueryAttention` appends the new keys and values (rotary embeddings applied
   * here, `do_rotary` 0) to the past buffers it was given, quantized with the layer's per-channel scales, and
   * attends over the dequantized cache. The scales come from `kv_scales.*`, or, on the first run (an empty past:
   * `total_sequence_length` equals the new positions), from these keys and values themselves.
   */
  const attendInt8 = (layer: number, project: (name: string) => string): string => {
    const [pastKey, pastValue] = past[layer]!;
    const [fedKeyScale, fedValueScale] = pastScales[layer]!;
    const query = rotary3d!(project('q_proj'), heads);
    const key = rotary3d!(project('k_proj'), kvHeads);
    const value = project('v_proj');
    const scaleShape = graph.constant('int64', [kvHeads, 1, headDim]);
    const perLevel = graph.constant('float32', INT8_CACHE_SCALE_MARGIN / 127);
    const smallest = graph.constant('float32', 1e-8);
    const scaleOf = (x: string, fed: string): string => {
      const largest = graph.op('ReduceMax', [graph.op('Abs', [x])], { axes: [0, 1], keepdims: 0 });
      const own = graph.op('Max', [graph.op('Mul', [graph.op('Reshape', [largest, scaleShape]), perLevel]), smallest]);
      return graph.op('Where', [firstRun!, own, fed]);
    };
    const keyScale = scaleOf(key, fedKeyScale);
    const valueScale = scaleOf(value, fedValueScale);
    const [output, presentKey, presentValue] = graph.node(
      'GroupQueryAttention',
      [
        query,
        key,
        value,
        pastKey,
        pastValue,
        lengths!.seqlens,
        lengths!.total,
        '',
        '',
        '',
        '',
        '',
        keyScale,
        valueScale,
      ],
      {
        num_heads: heads,
        kv_num_heads: kvHeads,
        scale: attribute.float(headDim ** -0.5),
        k_quant_type: 'PER_CHANNEL',
        v_quant_type: 'PER_CHANNEL',
        kv_cache_bit_width: 8,
      },
      { domain: 'com.microsoft', outputs: 3 },
    );
    const cacheShape = ['batch_size', kvHeads, 'capacity', headDim];
    graph.output(presentKey!, 'int8', cacheShape, `present.${layer}.key`);
    graph.output(presentValue!, 'int8', cacheShape, `present.${layer}.value`);
    graph.output(graph.op('Identity', [keyScale]), 'float32', [kvHeads, 1, headDim], `present_scales.${layer}.key`);
    graph.output(graph.op('Identity', [valueScale]), 'float32', [kvHeads, 1, headDim], `present_scales.${layer}.value`);
    return output!;
  };
  // The first run over an empty past: all positions are new.
  const firstRun = lengths
    ? graph.op('Equal', [
        lengths.total,
        graph.op('Cast', [graph.op('Shape', [embeds], { start: 1, end: 2 })], { to: TENSOR_DATA_TYPE_CODES.int32 }),
      ])
    : undefined;

  let hidden = castTo(graph, embeds, 'float32', type);
  for (let layer = 0; layer < layers; layer++) {
    const prefix = `model.language_model.layers.${layer}.`;
    const normed = norm(hidden, `${prefix}input_layernorm.weight`);
    const project = (name: string) =>
      planner.linear(
        normed,
        `${prefix}self_attn.${name}.weight`,
        bias(`${prefix}self_attn.${name}`, text.attentionBias),
      );
    const [pastKey, pastValue] = past[layer]!;
    let attention: string;
    if (int8Cache) {
      attention = attendInt8(layer, project);
    } else if (newOnly) {
      attention = attendWithNewOutputs(layer, project);
    } else if (fusedAttention) {
      const [output, presentKey, presentValue] = graph.node(
        'MultiHeadAttention',
        [
          rotary3d!(project('q_proj'), heads),
          rotary3d!(project('k_proj'), kvHeads),
          project('v_proj'),
          '',
          '',
          attentionBias,
          pastKey,
          pastValue,
        ],
        { num_heads: heads, scale: attribute.float(headDim ** -0.5) },
        { domain: 'com.microsoft', outputs: 3 },
      );
      // Fused attention runs only in float32 formats, so the outputs need no cast.
      outputKeyValue(`present.${layer}`, presentKey!, presentValue!, 'total_sequence_length');
      attention = output!;
    } else {
      const { query, key, value } = projectHeads(project);
      const presentKey = graph.op('Concat', [castTo(graph, pastKey, 'float32', type), key], { axis: 2 });
      const presentValue = graph.op('Concat', [castTo(graph, pastValue, 'float32', type), value], { axis: 2 });
      outputKeyValue(`present.${layer}`, presentKey, presentValue, 'total_sequence_length');
      // Grouped-query attention without copying the cache: fold each group's query heads into the sequence axis.
      const groupedQuery = grouped ? graph.op('Reshape', [query, grouped.query]) : query;
      let scores = graph.op('MatMul', [groupedQuery, graph.op('Transpose', [presentKey], { perm: [0, 1, 3, 2] })]);
      if (grouped) scores = graph.op('Reshape', [scores, grouped.scoresByHead]);
      scores = castTo(graph, graph.op('Mul', [scores, scale]), type, 'float32');
      let probabilities = softmax(graph, graph.op('Where', [allowed, scores, masked]), 'float32');
      probabilities = castTo(graph, probabilities, 'float32', type);
      if (grouped) probabilities = graph.op('Reshape', [probabilities, grouped.scoresByGroup]);
      let context = graph.op('MatMul', [probabilities, presentValue]);
      if (grouped) context = graph.op('Reshape', [context, grouped.contextByHead]);
      attention = graph.op('Reshape', [graph.op('Transpose', [context], { perm: [0, 2, 1, 3] }), mergeShape]);
    }
    hidden = graph.op('Add', [
      hidden,
      planner.linear(
        attention,
        `${prefix}self_attn.o_proj.weight`,
        bias(`${prefix}self_attn.o_proj`, text.attentionBias),
      ),
    ]);
    const normed2 = norm(hidden, `${prefix}post_attention_layernorm.weight`);
    const gate = activation(
      graph,
      planner.linear(normed2, `${prefix}mlp.gate_proj.weight`, bias(`${prefix}mlp.gate_proj`, text.mlpBias)),
      text.hiddenAct,
      type,
      'text_config.hidden_act',
    );
    const up = planner.linear(normed2, `${prefix}mlp.up_proj.weight`, bias(`${prefix}mlp.up_proj`, text.mlpBias));
    hidden = graph.op('Add', [
      hidden,
      planner.linear(
        graph.op('Mul', [gate, up]),
        `${prefix}mlp.down_proj.weight`,
        bias(`${prefix}mlp.down_proj`, text.mlpBias),
      ),
    ]);
    if (options.hiddenStateOutputs && layer < layers - 1) {
      graph.output(
        castTo(graph, hidden, type, 'float32'),
        'float32',
        ['batch_size', 'sequence_length', width],
        `hidden_states.${layer + 1}`,
      );
    }
  }
  const finalNormWeight = 'model.language_model.norm.weight';
  let final: string;
  if (numLogitsToKeep) {
    if (options.hiddenStateOutputs)
      graph.output(
        castTo(graph, norm(hidden, finalNormWeight), type, 'float32'),
        'float32',
        ['batch_size', 'sequence_length', width],
        `hidden_states.${layers}`,
      );
    // hidden[:, -N:] as transformers slices it: Slice clamps -N below -S to 0, and N = 0 starts at 0 (all
    // positions); Reshape to [1] takes the scalar and the [1] form alike. The slice comes before the final norm
    // (per position, so the same numbers), and in float16 after the norm's cast to float32: ONNX Runtime keeps
    // the float16 ops around it as without the input, so N = 0 gives exactly the logits of the graph without it.
    const sliceLast = (x: string) =>
      graph.op('Slice', [
        x,
        graph.op('Neg', [graph.op('Reshape', [numLogitsToKeep, graph.constant('int64', [1])])]),
        graph.constant('int64', [Number.MAX_SAFE_INTEGER]),
        graph.constant('int64', [1]),
      ]);
    final = contrib
      ? norm(sliceLast(hidden), finalNormWeight)
      : rmsNorm(
          graph,
          sliceLast(castTo(graph, hidden, type, 'float32')),
          planner.tensor(finalNormWeight),
          text.rmsNormEps,
          type,
          'float32',
        );
  } else {
    final = norm(hidden, finalNormWeight);
    if (options.hiddenStateOutputs)
      graph.output(
        castTo(graph, final, type, 'float32'),
        'float32',
        ['batch_size', 'sequence_length', width],
        `hidden_states.${layers}`,
      );
  }
  const head = text.tieWordEmbeddings ? 'model.language_model.embed_tokens.weight' : 'lm_head.weight';
  const logits = castTo(graph, planner.linear(final, head), type, 'float32');
  graph.output(
    logits,
    'float32',
    ['batch_size', numLogitsToKeep ? 'logits_sequence_length' : 'sequence_length', text.vocabSize],
    'logits',
  );
}

import { GraphBuilder, createModel, encodeModel } from '@video-llava/onnx';

/** The sizes of {@link buildInPlaceModels}' attention step. */
export const IN_PLACE_ATTENTION = { heads: 2, headDim: 8, capacity: 6 } as const;

/** Small models for backends that write outputs into caller tensors (`RunOptions.outputBuffers`), built in memory. */
export interface InPlaceModels {
  /** `sum = x + y` and `product = x * y`; `x`, `y`, `sum`, `product`: float32[2, n]. */
  sumAndProduct: Uint8Array;
  /**
   * One step of ONNX Runtime's contrib `GroupQueryAttention` (com.microsoft; ONNX Runtime only) over a past/present
   * buffer, float32 or with its int8 cache (`kv_cache_bit_width` 8, per-channel scales `k_scale` / `v_scale`
   * float32[heads, 1, headDim]). Inputs `q`, `k`, `v` float32[1, 1, heads*headDim], `past_key`, `past_value`
   * [1, heads, capacity, headDim], `seqlens_k` int32[1] (positions after the step, minus one), `total` int32 scalar;
   * outputs `out` float32[1, 1, heads*headDim], `present_key`, `present_value` like the past. Sizes:
   * {@link IN_PLACE_ATTENTION}.
   */
  groupQueryAttention(int8: boolean): Uint8Array;
}

/** Builds {@link InPlaceModels}. */
export function buildInPlaceModels(): InPlaceModels {
  return { sumAndProduct: sumAndProduct(), groupQueryAttention };
}

function sumAndProduct(): Uint8Array {
  const g = new GraphBuilder('sum_and_product');
  const x = g.input('x', 'float32', [2, 'n']);
  const y = g.input('y', 'float32', [2, 'n']);
  g.output(g.op('Add', [x, y]), 'float32', [2, 'n'], 'sum');
  g.output(g.op('Mul', [x, y]), 'float32', [2, 'n'], 'product');
  return encodeModel(createModel(g.build(), { opsetImports: { '': 17 } }));
}

function groupQueryAttention(int8: boolean): Uint8Array {
  const { heads, headDim, capacity } = IN_PLACE_ATTENTION;
  const g = new GraphBuilder('group_query_attention');
  const width = heads * headDim;
  const q = g.input('q', 'float32', [1, 1, width]);
  const k = g.input('k', 'float32', [1, 1, width]);
  const v = g.input('v', 'float32', [1, 1, width]);
  const cacheType = int8 ? 'int8' : 'float32';
  const pastKey = g.input('past_key', cacheType, [1, heads, capacity, headDim]);
  const pastValue = g.input('past_value', cacheType, [1, heads, capacity, headDim]);
  const seqlens = g.input('seqlens_k', 'int32', [1]);
  const total = g.input('total', 'int32', []);
  // Inputs 7-11 (rotary caches, position ids, attention bias, head sink) are left out; the scales are 12 and 13.
  const scales = int8
    ? [
        '',
        '',
        '',
        '',
        '',
        g.input('k_scale', 'float32', [heads, 1, headDim]),
        g.input('v_scale', 'float32', [heads, 1, headDim]),
      ]
    : [];
  const [output, presentKey, presentValue] = g.node(
    'GroupQueryAttention',
    [q, k, v, pastKey, pastValue, seqlens, total, ...scales],
    {
      num_heads: heads,
      kv_num_heads: heads,
      ...(int8 ? { k_quant_type: 'PER_CHANNEL', v_quant_type: 'PER_CHANNEL', kv_cache_bit_width: 8 } : {}),
    },
    { domain: 'com.microsoft', outputs: 3 },
  );
  g.output(output!, 'float32', [1, 1, width], 'out');
  g.output(presentKey!, cacheType, [1, heads, capacity, headDim], 'present_key');
  g.output(presentValue!, cacheType, [1, heads, capacity, headDim], 'present_value');
  return encodeModel(createModel(g.build(), { opsetImports: { '': 17, 'com.microsoft': 1 } }));
}

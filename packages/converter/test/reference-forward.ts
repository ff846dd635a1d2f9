import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

// A naive float64 Video-LLaVA forward pass, written from transformers' modeling_video_llava / modeling_clip /
// modeling_llama (behaviour, not code) and from the raw config.json (transformers' defaults filled here, on
// purpose without @video-llava/config), as an independent check of the converter's graphs on configs the fixture
// does not exercise. No KV cache: every step recomputes the whole sequence, so it cannot share a cache bug.
// Test-only; slow on purpose (plain loops), so keep the models tiny.

type Json = Record<string, unknown>;

/** A float64 tensor of the checkpoint. */
interface Weight {
  shape: number[];
  data: Float64Array;
}

function readSafetensors(directory: string): Map<string, Weight> {
  const out = new Map<string, Weight>();
  for (const file of readdirSync(directory).filter((name) => name.endsWith('.safetensors'))) {
    const bytes = readFileSync(join(directory, file));
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<
      string,
      { dtype: string; shape: number[]; data_offsets: [number, number] }
    >;
    const base = 8 + headerLength;
    for (const [name, entry] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const [start, end] = entry.data_offsets;
      const raw = bytes.subarray(base + start, base + end);
      const count = entry.shape.reduce((a, b) => a * b, 1);
      const data = new Float64Array(count);
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let index = 0; index < count; index++) {
        if (entry.dtype === 'F32') data[index] = view.getFloat32(index * 4, true);
        else if (entry.dtype === 'BF16')
          data[index] = new Float32Array(new Uint32Array([view.getUint16(index * 2, true) << 16]).buffer)[0]!;
        else throw new Error(`reference: ${name} is ${entry.dtype}; write the checkpoint as float32 or bfloat16`);
      }
      out.set(name, { shape: entry.shape, data });
    }
  }
  return out;
}

/** erf by its Taylor series (|x| < 5), to float64 accuracy far beyond what the test needs. */
function erf(x: number): number {
  if (x > 5) return 1;
  if (x < -5) return -1;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    const next = term / (2 * n + 1);
    sum += next;
    if (Math.abs(next) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** transformers' ACT2FN. */
function act(name: string, x: number): number {
  switch (name) {
    case 'gelu':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    case 'quick_gelu':
      return x / (1 + Math.exp(-1.702 * x));
    case 'silu':
    case 'swish':
      return x / (1 + Math.exp(-x));
    case 'relu':
      return Math.max(0, x);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
    case 'tanh':
      return Math.tanh(x);
    case 'linear':
      return x;
    default:
      throw new Error(`reference: activation ${name}`);
  }
}

/** `x W^T + b` on `rows` rows of `x`. */
function linear(x: Float64Array, rows: number, weight: Weight, bias?: Weight): Float64Array {
  const [outputs, inputs] = weight.shape as [number, number];
  if (x.length !== rows * inputs) throw new Error(`reference: linear input ${x.length} is not ${rows} x ${inputs}`);
  const y = new Float64Array(rows * outputs);
  for (let row = 0; row < rows; row++) {
    for (let o = 0; o < outputs; o++) {
      let sum = bias ? bias.data[o]! : 0;
      for (let i = 0; i < inputs; i++) sum += x[row * inputs + i]! * weight.data[o * inputs + i]!;
      y[row * outputs + o] = sum;
    }
  }
  return y;
}

function layerNorm(x: Float64Array, rows: number, weight: Weight, bias: Weight, eps: number): Float64Array {
  const dim = weight.shape[0]!;
  const y = new Float64Array(x.length);
  for (let row = 0; row < rows; row++) {
    let mean = 0;
    for (let i = 0; i < dim; i++) mean += x[row * dim + i]!;
    mean /= dim;
    let variance = 0;
    for (let i = 0; i < dim; i++) variance += (x[row * dim + i]! - mean) ** 2;
    variance /= dim;
    for (let i = 0; i < dim; i++)
      y[row * dim + i] = ((x[row * dim + i]! - mean) / Math.sqrt(variance + eps)) * weight.data[i]! + bias.data[i]!;
  }
  return y;
}

function rmsNorm(x: Float64Array, rows: number, weight: Weight, eps: number): Float64Array {
  const dim = weight.shape[0]!;
  const y = new Float64Array(x.length);
  for (let row = 0; row < rows; row++) {
    let meanSquare = 0;
    for (let i = 0; i < dim; i++) meanSquare += x[row * dim + i]! ** 2;
    meanSquare /= dim;
    for (let i = 0; i < dim; i++)
      y[row * dim + i] = weight.data[i]! * (x[row * dim + i]! / Math.sqrt(meanSquare + eps));
  }
  return y;
}

/**
 * Softmax attention of `queryRows` queries over `keyRows` keys for one head, reading head `qh` of `q` and head
 * `kvh` of `k`/`v` (rows of `qWidth` / `kvWidth` values); `allowed(i, j)` masks.
 */
function attendHead(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  out: Float64Array,
  shape: {
    queryRows: number;
    keyRows: number;
    headDim: number;
    qWidth: number;
    kvWidth: number;
    qh: number;
    kvh: number;
    scale: number;
  },
  allowed: (i: number, j: number) => boolean,
): void {
  const { queryRows, keyRows, headDim, qWidth, kvWidth, qh, kvh, scale } = shape;
  const scores = new Float64Array(keyRows);
  for (let i = 0; i < queryRows; i++) {
    let max = -Infinity;
    for (let j = 0; j < keyRows; j++) {
      if (!allowed(i, j)) {
        scores[j] = -Infinity;
        continue;
      }
      let dot = 0;
      for (let d = 0; d < headDim; d++) dot += q[i * qWidth + qh * headDim + d]! * k[j * kvWidth + kvh * headDim + d]!;
      scores[j] = dot * scale;
      max = Math.max(max, scores[j]!);
    }
    let total = 0;
    for (let j = 0; j < keyRows; j++) {
      scores[j] = scores[j] === -Infinity ? 0 : Math.exp(scores[j]! - max);
      total += scores[j]!;
    }
    for (let d = 0; d < headDim; d++) {
      let sum = 0;
      for (let j = 0; j < keyRows; j++) sum += (scores[j]! / total) * v[j * kvWidth + kvh * headDim + d]!;
      out[i * qWidth + qh * headDim + d] = sum;
    }
  }
}

function add(a: Float64Array, b: Float64Array): Float64Array {
  const y = new Float64Array(a.length);
  for (let index = 0; index < a.length; index++) y[index] = a[index]! + b[index]!;
  return y;
}

/** The raw config with the transformers defaults of the fields this reference reads. */
interface ReferenceConfig {
  vision: {
    hidden: number;
    heads: number;
    layers: number;
    channels: number;
    imageSize: number;
    patch: number;
    act: string;
    eps: number;
  };
  text: {
    hidden: number;
    heads: number;
    kvHeads: number;
    headDim: number;
    layers: number;
    act: string;
    eps: number;
    theta: number;
    ropeFactor: number;
    attentionBias: boolean;
    mlpBias: boolean;
    tie: boolean;
    vocab: number;
  };
  featureLayer: number | number[];
  strategy: string;
  projectorAct: string;
  projectorBias: boolean;
}

function readConfig(json: Json): ReferenceConfig {
  const v = (json['vision_config'] ?? {}) as Json;
  const t = (json['text_config'] ?? {}) as Json;
  const pick = <T>(object: Json, name: string, fallback: T): T =>
    object[name] === undefined || object[name] === null ? fallback : (object[name] as T);
  const hidden = pick(t, 'hidden_size', 4096);
  const heads = pick(t, 'num_attention_heads', 32);
  const rope = (t['rope_scaling'] ?? t['rope_parameters'] ?? {}) as Json;
  const ropeType: string = pick(rope, 'rope_type', pick(rope, 'type', 'default'));
  if (ropeType !== 'default' && ropeType !== 'linear') throw new Error(`reference: rope ${ropeType}`);
  return {
    vision: {
      hidden: pick(v, 'hidden_size', 768),
      heads: pick(v, 'num_attention_heads', 12),
      layers: pick(v, 'num_hidden_layers', 12),
      channels: pick(v, 'num_channels', 3),
      imageSize: pick(v, 'image_size', 224),
      patch: pick(v, 'patch_size', 32),
      act: pick(v, 'hidden_act', 'quick_gelu'),
      eps: pick(v, 'layer_norm_eps', 1e-5),
    },
    text: {
      hidden,
      heads,
      kvHeads: pick(t, 'num_key_value_heads', heads),
      headDim: pick(t, 'head_dim', Math.floor(hidden / heads)),
      layers: pick(t, 'num_hidden_layers', 32),
      act: pick(t, 'hidden_act', 'silu'),
      eps: pick(t, 'rms_norm_eps', 1e-6),
      theta: pick(rope, 'rope_theta', pick(t, 'rope_theta', 10000)),
      ropeFactor: ropeType === 'linear' ? (rope['factor'] as number) : 1,
      attentionBias: pick(t, 'attention_bias', false),
      mlpBias: pick(t, 'mlp_bias', false),
      tie: pick(t, 'tie_word_embeddings', false),
      vocab: pick(t, 'vocab_size', 32000),
    },
    featureLayer: pick(json, 'vision_feature_layer', -2),
    strategy: pick(json, 'vision_feature_select_strategy', 'default'),
    projectorAct: pick(json, 'projector_hidden_act', 'gelu'),
    projectorBias: pick(json, 'multimodal_projector_bias', true),
  };
}

/** A reference Video-LLaVA over a checkpoint folder (safetensors in float32 or bfloat16, any naming layout). */
export class ReferenceVideoLlava {
  readonly config: ReferenceConfig;
  readonly #weights: Map<string, Weight>;

  constructor(directory: string) {
    this.config = readConfig(JSON.parse(readFileSync(join(directory, 'config.json'), 'utf8')) as Json);
    this.#weights = readSafetensors(directory);
  }

  /** A weight by its transformers v5 module name, under whichever layout the checkpoint uses. */
  weight(name: string): Weight {
    const candidates = [
      name,
      name
        .replace(/^model\.(image|video)_tower\./, '$1_tower.vision_model.')
        .replace(/^model\.language_model\./, 'language_model.model.')
        .replace(/^lm_head\./, 'language_model.lm_head.')
        .replace(/^model\.multi_modal_projector\./, 'multi_modal_projector.'),
      name
        .replace(/^model\.(image|video)_tower\./, '$1_tower.')
        .replace(/^model\.language_model\./, 'language_model.model.')
        .replace(/^lm_head\./, 'language_model.lm_head.')
        .replace(/^model\.multi_modal_projector\./, 'multi_modal_projector.'),
    ];
    for (const candidate of candidates) {
      const found = this.#weights.get(candidate);
      if (found) return found;
    }
    throw new Error(`reference: no weight ${name}`);
  }

  has(name: string): boolean {
    try {
      this.weight(name);
      return true;
    } catch {
      return false;
    }
  }

  /** CLIPVisionModel with `output_hidden_states`: every hidden state of one image, `[tokens, hidden]` each. */
  visionHiddenStates(tower: 'image' | 'video', pixels: Float64Array): Float64Array[] {
    const { hidden: D, heads, layers, channels: C, imageSize: S, patch: P, act: hiddenAct, eps } = this.config.vision;
    const w = (name: string) => this.weight(`model.${tower}_tower.${name}`);
    const side = Math.floor(S / P);
    const tokens = side * side + 1;
    const conv = w('embeddings.patch_embedding.weight');
    let x: Float64Array = new Float64Array(tokens * D);
    const classEmbedding = w('embeddings.class_embedding').data;
    for (let d = 0; d < D; d++) x[d] = classEmbedding[d]!;
    // Conv2d(kernel = stride = patch, no bias), patches row-major.
    for (let py = 0; py < side; py++) {
      for (let px = 0; px < side; px++) {
        const token = 1 + py * side + px;
        for (let d = 0; d < D; d++) {
          let sum = 0;
          for (let c = 0; c < C; c++) {
            for (let ky = 0; ky < P; ky++) {
              for (let kx = 0; kx < P; kx++)
                sum += conv.data[((d * C + c) * P + ky) * P + kx]! * pixels[(c * S + py * P + ky) * S + px * P + kx]!;
            }
          }
          x[token * D + d] = sum;
        }
      }
    }
    const positions = w('embeddings.position_embedding.weight');
    if (positions.shape[0] !== tokens)
      throw new Error(`reference: ${positions.shape[0]} position embeddings for ${tokens} tokens`);
    for (let index = 0; index < x.length; index++) x[index] = x[index]! + positions.data[index]!;
    x = layerNorm(x, tokens, w('pre_layrnorm.weight'), w('pre_layrnorm.bias'), eps);
    const states = [x];
    const headDim = D / heads;
    for (let layer = 0; layer < layers; layer++) {
      const l = (name: string) => w(`encoder.layers.${layer}.${name}`);
      const normed = layerNorm(x, tokens, l('layer_norm1.weight'), l('layer_norm1.bias'), eps);
      const q = linear(normed, tokens, l('self_attn.q_proj.weight'), l('self_attn.q_proj.bias'));
      const k = linear(normed, tokens, l('self_attn.k_proj.weight'), l('self_attn.k_proj.bias'));
      const v = linear(normed, tokens, l('self_attn.v_proj.weight'), l('self_attn.v_proj.bias'));
      const context = new Float64Array(tokens * D);
      for (let head = 0; head < heads; head++) {
        attendHead(
          q,
          k,
          v,
          context,
          {
            queryRows: tokens,
            keyRows: tokens,
            headDim,
            qWidth: D,
            kvWidth: D,
            qh: head,
            kvh: head,
            scale: headDim ** -0.5,
          },
          () => true,
        );
      }
      x = add(x, linear(context, tokens, l('self_attn.out_proj.weight'), l('self_attn.out_proj.bias')));
      const normed2 = layerNorm(x, tokens, l('layer_norm2.weight'), l('layer_norm2.bias'), eps);
      const up = linear(normed2, tokens, l('mlp.fc1.weight'), l('mlp.fc1.bias')).map((value) => act(hiddenAct, value));
      x = add(x, linear(up, tokens, l('mlp.fc2.weight'), l('mlp.fc2.bias')));
      states.push(x);
    }
    return states;
  }

  /** The multi-modal projector on `rows` rows. */
  project(features: Float64Array, rows: number): Float64Array {
    const bias = (name: string) =>
      this.config.projectorBias ? this.weight(`model.multi_modal_projector.${name}.bias`) : undefined;
    const hidden = linear(
      features,
      rows,
      this.weight('model.multi_modal_projector.linear_1.weight'),
      bias('linear_1'),
    ).map((value) => act(this.config.projectorAct, value));
    return linear(hidden, rows, this.weight('model.multi_modal_projector.linear_2.weight'), bias('linear_2'));
  }

  /** Selected hidden states (concatenated along features for a list), CLS dropped when `dropCls`. */
  #select(states: Float64Array[], dropCls: boolean): { features: Float64Array; rows: number } {
    const D = this.config.vision.hidden;
    const layers = Array.isArray(this.config.featureLayer) ? this.config.featureLayer : [this.config.featureLayer];
    const picked = layers.map((layer) => states[layer < 0 ? states.length + layer : layer]!);
    const tokens = states[0]!.length / D;
    const first = dropCls ? 1 : 0;
    const rows = tokens - first;
    const width = D * picked.length;
    const features = new Float64Array(rows * width);
    for (let row = 0; row < rows; row++) {
      picked.forEach((state, index) => {
        for (let d = 0; d < D; d++) features[row * width + index * D + d] = state[(row + first) * D + d]!;
      });
    }
    return { features, rows };
  }

  /** `get_image_features` of one image `[C, S, S]`: `[tokens, text hidden]`. */
  imageFeatures(pixels: Float64Array): Float64Array {
    const { features, rows } = this.#select(
      this.visionHiddenStates('image', pixels),
      this.config.strategy === 'default',
    );
    return this.project(features, rows);
  }

  /** `get_video_features` of one frame `[C, S, S]`: every token, the CLS included, whatever the strategy. */
  frameFeatures(pixels: Float64Array): Float64Array {
    const { features, rows } = this.#select(this.visionHiddenStates('video', pixels), false);
    return this.project(features, rows);
  }

  /** The token embeddings of ids, `[ids, hidden]`. */
  embed(ids: readonly number[]): Float64Array {
    const table = this.weight('model.language_model.embed_tokens.weight');
    const H = this.config.text.hidden;
    const out = new Float64Array(ids.length * H);
    ids.forEach((id, row) => out.set(table.data.subarray(id * H, (id + 1) * H), row * H));
    return out;
  }

  /** LlamaForCausalLM on one unpadded sequence of embeddings at positions 0..n-1: logits `[n, vocab]`. */
  languageModel(embeds: Float64Array): Float64Array {
    const t = this.config.text;
    const n = embeds.length / t.hidden;
    const l = (layer: number, name: string) => this.weight(`model.language_model.layers.${layer}.${name}`);
    const bias = (layer: number, name: string, enabled: boolean) => (enabled ? l(layer, `${name}.bias`) : undefined);
    const half = t.headDim / 2;
    const inverse = Array.from({ length: half }, (_, i) => 1 / t.theta ** ((2 * i) / t.headDim) / t.ropeFactor);
    const rope = (x: Float64Array, heads: number) => {
      const width = heads * t.headDim;
      for (let position = 0; position < n; position++) {
        for (let head = 0; head < heads; head++) {
          const at = position * width + head * t.headDim;
          for (let i = 0; i < half; i++) {
            const angle = position * inverse[i]!;
            const x1 = x[at + i]!;
            const x2 = x[at + half + i]!;
            x[at + i] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
            x[at + half + i] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
          }
        }
      }
    };
    let x: Float64Array = embeds;
    const groups = t.heads / t.kvHeads;
    for (let layer = 0; layer < t.layers; layer++) {
      const normed = rmsNorm(x, n, l(layer, 'input_layernorm.weight'), t.eps);
      const q = linear(
        normed,
        n,
        l(layer, 'self_attn.q_proj.weight'),
        bias(layer, 'self_attn.q_proj', t.attentionBias),
      );
      const k = linear(
        normed,
        n,
        l(layer, 'self_attn.k_proj.weight'),
        bias(layer, 'self_attn.k_proj', t.attentionBias),
      );
      const v = linear(
        normed,
        n,
        l(layer, 'self_attn.v_proj.weight'),
        bias(layer, 'self_attn.v_proj', t.attentionBias),
      );
      rope(q, t.heads);
      rope(k, t.kvHeads);
      const context = new Float64Array(n * t.heads * t.headDim);
      for (let head = 0; head < t.heads; head++) {
        // repeat_kv: query head h reads key/value head floor(h / groups).
        attendHead(
          q,
          k,
          v,
          context,
          {
            queryRows: n,
            keyRows: n,
            headDim: t.headDim,
            qWidth: t.heads * t.headDim,
            kvWidth: t.kvHeads * t.headDim,
            qh: head,
            kvh: Math.floor(head / groups),
            scale: t.headDim ** -0.5,
          },
          (i, j) => j <= i,
        );
      }
      x = add(
        x,
        linear(context, n, l(layer, 'self_attn.o_proj.weight'), bias(layer, 'self_attn.o_proj', t.attentionBias)),
      );
      const normed2 = rmsNorm(x, n, l(layer, 'post_attention_layernorm.weight'), t.eps);
      const gate = linear(normed2, n, l(layer, 'mlp.gate_proj.weight'), bias(layer, 'mlp.gate_proj', t.mlpBias));
      const up = linear(normed2, n, l(layer, 'mlp.up_proj.weight'), bias(layer, 'mlp.up_proj', t.mlpBias));
      const product = gate.map((value, index) => act(t.act, value) * up[index]!);
      x = add(x, linear(product, n, l(layer, 'mlp.down_proj.weight'), bias(layer, 'mlp.down_proj', t.mlpBias)));
    }
    const final = rmsNorm(x, n, this.weight('model.language_model.norm.weight'), t.eps);
    // tie_word_embeddings: lm_head shares the input embeddings (transformers ties them; a stored lm_head is ignored).
    const head = t.tie ? this.weight('model.language_model.embed_tokens.weight') : this.weight('lm_head.weight');
    return linear(final, n, head);
  }
}

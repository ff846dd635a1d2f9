import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeFloats, openCheckpoint } from '@video-llava/converter/node';

// A small GGUF (v3) writer for the LLaMA text model of a Video-LLaVA checkpoint, so that llama.cpp runs the same
// weights as our ONNX files: header, llama architecture metadata from config.json, the SPM vocabulary from
// tokenizer.json, and the tensors as llama.cpp names them, in F32, Q8_0 or Q4_0 blocks (ggml's reference
// quantization). The q/k projections are permuted back from Hugging Face's rotate-half layout to the
// interleaved one llama.cpp's LLaMA rope expects (convert_hf_to_gguf.py's `permute`).

/** Tensor types this writer produces (ggml type ids). */
export const GGML_TYPES = { F32: 0, Q4_0: 2, Q8_0: 8 } as const;
export type GgufTensorType = keyof typeof GGML_TYPES;
/** `general.file_type` (llama_ftype) of a file whose 2-D tensors are all of one type. */
const FILE_TYPES: Record<GgufTensorType, number> = { F32: 0, Q4_0: 2, Q8_0: 7 };
const BLOCK = 32;
const ALIGNMENT = 32;

// GGUF metadata value types.
const T = { UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9 } as const;

type MetaValue =
  | { type: 'u32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'strings'; value: string[] }
  | { type: 'f32s'; value: Float32Array }
  | { type: 'i32s'; value: Int32Array };

class ByteSink {
  private chunks: Buffer[] = [];
  length = 0;
  push(buffer: Buffer): void {
    this.chunks.push(buffer);
    this.length += buffer.byteLength;
  }
  u32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value);
    this.push(b);
  }
  i32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(value);
    this.push(b);
  }
  u64(value: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(value));
    this.push(b);
  }
  f32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.push(b);
  }
  string(text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    this.u64(bytes.byteLength);
    this.push(bytes);
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function writeMeta(sink: ByteSink, key: string, meta: MetaValue): void {
  sink.string(key);
  switch (meta.type) {
    case 'u32':
      sink.u32(T.UINT32);
      sink.u32(meta.value);
      break;
    case 'f32':
      sink.u32(T.FLOAT32);
      sink.f32(meta.value);
      break;
    case 'bool':
      sink.u32(T.BOOL);
      sink.push(Buffer.of(meta.value ? 1 : 0));
      break;
    case 'string':
      sink.u32(T.STRING);
      sink.string(meta.value);
      break;
    case 'strings':
      sink.u32(T.ARRAY);
      sink.u32(T.STRING);
      sink.u64(meta.value.length);
      for (const text of meta.value) sink.string(text);
      break;
    case 'f32s':
      sink.u32(T.ARRAY);
      sink.u32(T.FLOAT32);
      sink.u64(meta.value.length);
      sink.push(Buffer.from(meta.value.buffer, meta.value.byteOffset, meta.value.byteLength));
      break;
    case 'i32s':
      sink.u32(T.ARRAY);
      sink.u32(T.INT32);
      sink.u64(meta.value.length);
      sink.push(Buffer.from(meta.value.buffer, meta.value.byteOffset, meta.value.byteLength));
      break;
  }
}

/** Bytes of `count` values (a multiple of 32 for the block types) stored as `type`. */
export function ggmlBytes(type: GgufTensorType, count: number): number {
  if (type === 'F32') return count * 4;
  if (count % BLOCK !== 0) throw new Error(`${type} needs a multiple of ${BLOCK} values per row, found ${count}`);
  return (count / BLOCK) * (type === 'Q8_0' ? 34 : 18);
}

const halfScratch = new Float32Array(1);
const halfBits = new Uint32Array(halfScratch.buffer);
/** float32 -> float16 bits, round to nearest even (ggml's GGML_FP32_TO_FP16 for finite values). */
export function toHalf(value: number): number {
  halfScratch[0] = value;
  const x = halfBits[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** ggml's reference Q8_0: per block of 32, d = amax / 127 (float16), q = round(x / d). */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  const out = new Uint8Array(ggmlBytes('Q8_0', values.length));
  const signed = new Int8Array(out.buffer);
  for (let block = 0, o = 0; block < values.length; block += BLOCK, o += 34) {
    let amax = 0;
    for (let index = 0; index < BLOCK; index++) {
      const v = values[block + index]!;
      if (v > amax) amax = v;
      else if (-v > amax) amax = -v;
    }
    const d = amax / 127;
    const id = d ? 1 / d : 0;
    const half = toHalf(d);
    out[o] = half & 0xff;
    out[o + 1] = half >>> 8;
    for (let index = 0; index < BLOCK; index++) signed[o + 2 + index] = Math.round(values[block + index]! * id);
  }
  return out;
}

/**
 * ggml's reference Q4_0: per block of 32, d = max / -8 where max is the value of largest magnitude (sign kept),
 * q = min(15, trunc(x / d + 8.5)); byte j holds element j (low nibble) and element j + 16 (high nibble).
 */
export function quantizeQ4_0(values: Float32Array): Uint8Array {
  const out = new Uint8Array(ggmlBytes('Q4_0', values.length));
  for (let block = 0, o = 0; block < values.length; block += BLOCK, o += 18) {
    let amax = 0;
    let max = 0;
    for (let index = 0; index < BLOCK; index++) {
      const v = values[block + index]!;
      const a = v < 0 ? -v : v;
      if (a > amax) {
        amax = a;
        max = v;
      }
    }
    const d = max / -8;
    const id = d ? 1 / d : 0;
    const half = toHalf(d);
    out[o] = half & 0xff;
    out[o + 1] = half >>> 8;
    for (let index = 0; index < BLOCK / 2; index++) {
      const x0 = Math.min(15, Math.trunc(values[block + index]! * id + 8.5));
      const x1 = Math.min(15, Math.trunc(values[block + index + BLOCK / 2]! * id + 8.5));
      out[o + 2 + index] = x0 | (x1 << 4);
    }
  }
  return out;
}

function encodeTensor(type: GgufTensorType, values: Float32Array): Uint8Array {
  if (type === 'F32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return type === 'Q8_0' ? quantizeQ8_0(values) : quantizeQ4_0(values);
}

/**
 * Hugging Face's q/k rows (per head: the first half of the rotary pairs, then the second half) back to the
 * interleaved order of the original LLaMA weights that llama.cpp's rope (mode 0) expects: GGUF row
 * `h*hd + 2k + j` is HF row `h*hd + j*hd/2 + k` (convert_hf_to_gguf.py: reshape(n_head, 2, hd/2, in).swapaxes(1, 2)).
 */
export function permuteForLlamaRope(values: Float32Array, rows: number, columns: number, heads: number): Float32Array {
  const headDim = rows / heads;
  const out = new Float32Array(values.length);
  for (let head = 0; head < heads; head++) {
    for (let k = 0; k < headDim / 2; k++) {
      for (let j = 0; j < 2; j++) {
        const to = head * headDim + 2 * k + j;
        const from = head * headDim + j * (headDim / 2) + k;
        out.set(values.subarray(from * columns, (from + 1) * columns), to * columns);
      }
    }
  }
  return out;
}

/** The LLaMA SPM vocabulary of a Hugging Face tokenizer.json (BPE with byte fallback), padded to `vocabSize`. */
export function llamaVocabulary(
  tokenizer: {
    model: { type: string; vocab: Record<string, number> };
    added_tokens?: { id: number; content: string; special: boolean }[];
  },
  vocabSize: number,
) {
  if (tokenizer.model.type !== 'BPE')
    throw new Error(`tokenizer.json: expected the LLaMA BPE (byte fallback) model, found ${tokenizer.model.type}`);
  const tokens: (string | undefined)[] = new Array(vocabSize).fill(undefined);
  const types = new Int32Array(vocabSize).fill(1);
  const scores = new Float32Array(vocabSize);
  for (const [text, id] of Object.entries(tokenizer.model.vocab)) {
    if (id >= vocabSize) continue;
    tokens[id] = text;
    // tokenizer.json keeps no SentencePiece scores; LLaMA's are -(id - 259) for the normal pieces (bytes and
    // specials score 0), which is the order the BPE merges were derived from.
    scores[id] = id >= 259 ? -(id - 259) : 0;
    if (/^<0x[0-9A-F]{2}>$/.test(text)) types[id] = 6;
  }
  for (const added of tokenizer.added_tokens ?? []) {
    if (added.id >= vocabSize) continue;
    tokens[added.id] = added.content;
    scores[added.id] = 0;
    types[added.id] = added.content === '<unk>' ? 2 : added.id < 3 ? 3 : 4;
  }
  for (let id = 0; id < vocabSize; id++) {
    if (tokens[id] === undefined) {
      tokens[id] = `[PAD${id}]`;
      types[id] = 5;
    }
  }
  return { tokens: tokens as string[], types, scores };
}

/** Options of {@link writeLlamaGguf}. */
export interface WriteGgufOptions {
  /** Type of the 2-D weights (norms stay F32). */
  type: GgufTensorType;
  /** tokenizer.json to take the vocabulary from. @default the checkpoint's own */
  tokenizerFile?: string;
  /** Progress lines. */
  log?: (line: string) => void;
}

/**
 * Writes the text model (LLaMA) of a Video-LLaVA checkpoint folder as a GGUF v3 file llama.cpp loads
 * (`general.architecture = llama`), reading the safetensors tensor by tensor.
 */
export async function writeLlamaGguf(
  checkpointDirectory: string,
  outputFile: string,
  options: WriteGgufOptions,
): Promise<{ bytes: number; tensorBytes: number }> {
  const checkpoint = await openCheckpoint(checkpointDirectory);
  try {
    const text = checkpoint.config.textConfig;
    if (text.rope.ropeType !== 'default')
      throw new Error(
        `${checkpointDirectory}: rope type ${text.rope.ropeType} is not written by this GGUF writer (default only)`,
      );
    const ropeTheta = text.rope.ropeTheta;
    const tokenizer = JSON.parse(
      await readFile(options.tokenizerFile ?? join(checkpointDirectory, 'tokenizer.json'), 'utf8'),
    );
    const vocabulary = llamaVocabulary(tokenizer, text.vocabSize);
    const prefix = 'model.language_model.';
    type Entry = { name: string; canonical: string; dims: number[]; type: GgufTensorType; permuteHeads?: number };
    const entries: Entry[] = [];
    const add = (name: string, canonical: string, permuteHeads?: number) => {
      const tensor = checkpoint.tensors.get(canonical);
      if (!tensor) throw new Error(`${checkpointDirectory}: no tensor ${canonical}`);
      const dims = [...tensor.shape].reverse(); // ggml's ne[0] is the contiguous dimension
      entries.push({
        name,
        canonical,
        dims,
        type: dims.length === 1 ? 'F32' : options.type,
        ...(permuteHeads ? { permuteHeads } : {}),
      });
    };
    add('token_embd.weight', `${prefix}embed_tokens.weight`);
    for (let layer = 0; layer < text.numHiddenLayers; layer++) {
      const p = `${prefix}layers.${layer}.`;
      add(`blk.${layer}.attn_norm.weight`, `${p}input_layernorm.weight`);
      add(`blk.${layer}.attn_q.weight`, `${p}self_attn.q_proj.weight`, text.numAttentionHeads);
      add(`blk.${layer}.attn_k.weight`, `${p}self_attn.k_proj.weight`, text.numKeyValueHeads);
      add(`blk.${layer}.attn_v.weight`, `${p}self_attn.v_proj.weight`);
      add(`blk.${layer}.attn_output.weight`, `${p}self_attn.o_proj.weight`);
      add(`blk.${layer}.ffn_norm.weight`, `${p}post_attention_layernorm.weight`);
      add(`blk.${layer}.ffn_gate.weight`, `${p}mlp.gate_proj.weight`);
      add(`blk.${layer}.ffn_up.weight`, `${p}mlp.up_proj.weight`);
      add(`blk.${layer}.ffn_down.weight`, `${p}mlp.down_proj.weight`);
    }
    add('output_norm.weight', `${prefix}norm.weight`);
    add('output.weight', 'lm_head.weight');

    const header = new ByteSink();
    header.push(Buffer.from('GGUF', 'ascii'));
    header.u32(3);
    header.u64(entries.length);
    const meta: [string, MetaValue][] = [
      ['general.architecture', { type: 'string', value: 'llama' }],
      ['general.name', { type: 'string', value: 'video-llava-text-model' }],
      ['general.alignment', { type: 'u32', value: ALIGNMENT }],
      ['general.file_type', { type: 'u32', value: FILE_TYPES[options.type] }],
      ['llama.context_length', { type: 'u32', value: text.maxPositionEmbeddings }],
      ['llama.embedding_length', { type: 'u32', value: text.hiddenSize }],
      ['llama.block_count', { type: 'u32', value: text.numHiddenLayers }],
      ['llama.feed_forward_length', { type: 'u32', value: text.intermediateSize }],
      ['llama.attention.head_count', { type: 'u32', value: text.numAttentionHeads }],
      ['llama.attention.head_count_kv', { type: 'u32', value: text.numKeyValueHeads }],
      ['llama.attention.key_length', { type: 'u32', value: text.headDim }],
      ['llama.attention.value_length', { type: 'u32', value: text.headDim }],
      ['llama.attention.layer_norm_rms_epsilon', { type: 'f32', value: text.rmsNormEps }],
      ['llama.rope.freq_base', { type: 'f32', value: ropeTheta }],
      ['llama.rope.dimension_count', { type: 'u32', value: text.headDim }],
      ['llama.vocab_size', { type: 'u32', value: text.vocabSize }],
      ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
      ['tokenizer.ggml.tokens', { type: 'strings', value: vocabulary.tokens }],
      ['tokenizer.ggml.scores', { type: 'f32s', value: vocabulary.scores }],
      ['tokenizer.ggml.token_type', { type: 'i32s', value: vocabulary.types }],
      ['tokenizer.ggml.bos_token_id', { type: 'u32', value: 1 }],
      ['tokenizer.ggml.eos_token_id', { type: 'u32', value: 2 }],
      ['tokenizer.ggml.unknown_token_id', { type: 'u32', value: 0 }],
      ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
      ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
    ];
    header.u64(meta.length);
    for (const [key, value] of meta) writeMeta(header, key, value);
    let offset = 0;
    const offsets: number[] = [];
    for (const entry of entries) {
      header.string(entry.name);
      header.u32(entry.dims.length);
      for (const dim of entry.dims) header.u64(dim);
      header.u32(GGML_TYPES[entry.type]);
      header.u64(offset);
      offsets.push(offset);
      offset += ggmlBytes(
        entry.type,
        entry.dims.reduce((a, b) => a * b, 1),
      );
      offset = Math.ceil(offset / ALIGNMENT) * ALIGNMENT;
    }
    const headerBytes = header.bytes();
    const dataStart = Math.ceil(headerBytes.byteLength / ALIGNMENT) * ALIGNMENT;
    const handle = await open(outputFile, 'w');
    try {
      await handle.write(headerBytes, 0, headerBytes.byteLength, 0);
      for (const [index, entry] of entries.entries()) {
        const tensor = checkpoint.tensors.get(entry.canonical)!;
        const file = checkpoint.files.get(tensor.file)!;
        const [columns, rows = 1] = entry.dims as [number, number?];
        const elementBytes = (tensor.end - tensor.start) / (rows * columns);
        // Whole tensor for the permuted q/k (at most hidden x hidden); rows in chunks of ~16 MiB otherwise.
        const rowsPerChunk = entry.permuteHeads
          ? rows
          : Math.max(1, Math.floor((16 * 2 ** 20) / (columns * elementBytes)));
        let position = dataStart + offsets[index]!;
        for (let row = 0; row < rows; row += rowsPerChunk) {
          const count = Math.min(rowsPerChunk, rows - row);
          const raw = await file.read(tensor.start + row * columns * elementBytes, count * columns * elementBytes);
          let values = decodeFloats(raw, tensor.dtype);
          if (entry.permuteHeads) values = permuteForLlamaRope(values, rows, columns, entry.permuteHeads);
          const encoded = encodeTensor(entry.type, values);
          await handle.write(encoded, 0, encoded.byteLength, position);
          position += encoded.byteLength;
        }
        if ((index + 1) % 20 === 0) options.log?.(`gguf ${options.type}: ${index + 1}/${entries.length} tensors`);
      }
      // Pad the file to the aligned end of the last tensor.
      const end = dataStart + offset;
      const { size } = await handle.stat();
      if (size < end) await handle.truncate(end);
    } finally {
      await handle.close();
    }
    return { bytes: dataStart + offset, tensorBytes: offset };
  } finally {
    await checkpoint.close();
  }
}

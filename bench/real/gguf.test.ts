import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFloat16 } from '@video-llava/converter/node';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ggmlBytes,
  llamaVocabulary,
  permuteForLlamaRope,
  quantizeQ4_0,
  quantizeQ8_0,
  toHalf,
  writeLlamaGguf,
} from './gguf.js';
import { FIXTURE_MODEL_DIR } from './paths.js';

const halfToFloat = (bits: number): number => {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? Number.NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
};

describe('toHalf', () => {
  it('rounds like the converter float16 encoder (normals, subnormals, ties, overflow)', () => {
    const values = Float32Array.from([
      0, -0, 1, -1, 65504, 65520, 1e9, 6.1e-5, 5.96e-8, 2.98e-8, 1e-10, 1.00048828125, 1.000732421875, 0.1, -123.456,
    ]);
    const random = Float32Array.from(
      { length: 20000 },
      (_, index) => Math.sin(index * 12.9898) * 10 ** ((index % 13) - 8),
    );
    for (const list of [values, random]) {
      const expected = encodeFloat16(list);
      expect(Array.from(list, toHalf)).toEqual(Array.from(expected));
    }
  });
});

/** Half the spacing of float16 values around `value` (normal range): the most that rounding to float16 moves it. */
function halfStep(value: number): number {
  return 2 ** (Math.floor(Math.log2(Math.abs(value))) - 11);
}

describe('Q8_0 and Q4_0 blocks (ggml reference rounding)', () => {
  const values = Float32Array.from({ length: 64 }, (_, index) => Math.sin(index * 0.7) * (index < 32 ? 0.05 : 3));

  it('Q8_0: 34 bytes per 32 values, d = amax / 127, every value within d / 2 after dequantization (plus the float16 rounding of d)', () => {
    const bytes = quantizeQ8_0(values);
    expect(bytes.byteLength).toBe(ggmlBytes('Q8_0', 64));
    const view = new DataView(bytes.buffer);
    for (let block = 0; block < 2; block++) {
      const d = halfToFloat(view.getUint16(block * 34, true));
      const amax = Math.max(...values.subarray(block * 32, block * 32 + 32).map(Math.abs));
      // d is amax / 127 rounded to float16: within half a float16 step of it.
      expect(Math.abs(d - amax / 127)).toBeLessThanOrEqual(halfStep(amax / 127));
      for (let index = 0; index < 32; index++) {
        const q = view.getInt8(block * 34 + 2 + index);
        expect(Math.abs(q * d - values[block * 32 + index]!)).toBeLessThanOrEqual(d / 2 + 127 * d * 2 ** -11);
      }
    }
  });

  it('Q4_0: 18 bytes per 32 values, d = max / -8, element j low nibble and j + 16 high nibble', () => {
    const bytes = quantizeQ4_0(values);
    expect(bytes.byteLength).toBe(ggmlBytes('Q4_0', 64));
    const view = new DataView(bytes.buffer);
    for (let block = 0; block < 2; block++) {
      const slice = values.subarray(block * 32, block * 32 + 32);
      const max = slice.reduce((best, value) => (Math.abs(value) > Math.abs(best) ? value : best), 0);
      const d = halfToFloat(view.getUint16(block * 18, true));
      expect(Math.abs(d - max / -8)).toBeLessThanOrEqual(halfStep(max / -8));
      for (let index = 0; index < 16; index++) {
        const byte = bytes[block * 18 + 2 + index]!;
        for (const [q, value] of [
          [byte & 15, slice[index]!],
          [byte >>> 4, slice[index + 16]!],
        ] as const) {
          // Within d / 2, except the top of the positive side, clamped to nibble 15 (7 d) as in ggml: within d.
          expect(Math.abs((q - 8) * d - value)).toBeLessThanOrEqual(Math.abs(d) * (q === 15 ? 1.01 : 0.51));
        }
      }
      // The value of largest magnitude maps to nibble 0 exactly.
      const where = slice.indexOf(max);
      const byte = bytes[block * 18 + 2 + (where % 16)]!;
      expect(where < 16 ? byte & 15 : byte >>> 4).toBe(0);
    }
  });

  it('refuses rows that are not whole blocks', () => {
    expect(() => ggmlBytes('Q4_0', 33)).toThrow(/multiple of 32/);
  });
});

describe('permuteForLlamaRope', () => {
  it('interleaves each head: HF rows [x0 x1 | y0 y1] become [x0 y0 x1 y1]', () => {
    // 2 heads of 4 rows, 2 columns: row r holds [r, 100 + r].
    const rows = 8;
    const values = Float32Array.from({ length: rows * 2 }, (_, index) => (index % 2 ? 100 : 0) + Math.floor(index / 2));
    const out = permuteForLlamaRope(values, rows, 2, 2);
    const order = Array.from({ length: rows }, (_, row) => out[row * 2]!);
    expect(order).toEqual([0, 2, 1, 3, 4, 6, 5, 7]);
    expect(Array.from({ length: rows }, (_, row) => out[row * 2 + 1]! - out[row * 2]!)).toEqual(
      new Array(rows).fill(100),
    );
  });
});

describe('llamaVocabulary', () => {
  it('takes the SPM pieces of the fixture tokenizer.json with their types and pads to vocab_size', () => {
    const tokenizer = JSON.parse(readFileSync(join(FIXTURE_MODEL_DIR, 'tokenizer.json'), 'utf8'));
    const { tokens, types, scores } = llamaVocabulary(tokenizer, 32064);
    expect(tokens.length).toBe(32064);
    expect([tokens[0], tokens[1], tokens[2], tokens[3], tokens[32000], tokens[32001], tokens[32063]]).toEqual([
      '<unk>',
      '<s>',
      '</s>',
      '<0x00>',
      '<image>',
      '<video>',
      '[PAD32063]',
    ]);
    expect([types[0], types[1], types[2], types[3], types[300], types[32000], types[32063]]).toEqual([
      2, 3, 3, 6, 1, 4, 5,
    ]);
    expect(scores[259]).toBe(-0);
    expect(scores[1259]).toBe(-1000);
  });

  it('refuses a tokenizer that is not the LLaMA BPE one', () => {
    expect(() => llamaVocabulary({ model: { type: 'Unigram', vocab: {} } }, 10)).toThrow(/expected the LLaMA BPE/);
  });
});

describe('writeLlamaGguf', () => {
  const folder = mkdtempSync(join(tmpdir(), 'bench-gguf-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('writes a GGUF v3 file whose header lists the llama tensors with aligned offsets that end at the file end', async () => {
    const file = join(folder, 'tiny-q8.gguf');
    const written = await writeLlamaGguf(FIXTURE_MODEL_DIR, file, { type: 'Q8_0' });
    const bytes = readFileSync(file);
    expect(statSync(file).size).toBe(written.bytes);
    expect(bytes.subarray(0, 4).toString('ascii')).toBe('GGUF');
    expect(bytes.readUInt32LE(4)).toBe(3);
    const tensorCount = Number(bytes.readBigUInt64LE(8));
    expect(tensorCount).toBe(1 + 9 * 2 + 2);
    // Skip the metadata: find the first tensor info by its name and read the infos from there.
    let position = bytes.indexOf(Buffer.from('token_embd.weight')) - 8;
    const infos: { name: string; dims: number[]; type: number; offset: number }[] = [];
    for (let index = 0; index < tensorCount; index++) {
      const length = Number(bytes.readBigUInt64LE(position));
      const name = bytes.subarray(position + 8, position + 8 + length).toString('utf8');
      position += 8 + length;
      const rank = bytes.readUInt32LE(position);
      const dims = Array.from({ length: rank }, (_, dim) => Number(bytes.readBigUInt64LE(position + 4 + 8 * dim)));
      position += 4 + 8 * rank;
      infos.push({
        name,
        dims,
        type: bytes.readUInt32LE(position),
        offset: Number(bytes.readBigUInt64LE(position + 4)),
      });
      position += 12;
    }
    expect(infos.map((info) => info.name).slice(0, 4)).toEqual([
      'token_embd.weight',
      'blk.0.attn_norm.weight',
      'blk.0.attn_q.weight',
      'blk.0.attn_k.weight',
    ]);
    expect(infos.at(-1)).toMatchObject({ name: 'output.weight', dims: [64, 32064], type: 8 });
    expect(infos[1]).toMatchObject({ dims: [64], type: 0 });
    const dataStart = Math.ceil(position / 32) * 32;
    for (const info of infos) expect(info.offset % 32).toBe(0);
    const last = infos.at(-1)!;
    expect(dataStart + last.offset + ggmlBytes('Q8_0', 64 * 32064)).toBe(written.bytes);
  });
});

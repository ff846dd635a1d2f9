import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { measureDifference } from '@video-llava/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRawSafetensors, writeRawSafetensors } from '../../test/safetensors-edit.js';
import { convertCheckpoint } from './convert-checkpoint.js';
import { writeSyntheticCheckpoint } from './synthetic-checkpoint.js';

// Grouped-query attention (num_key_value_heads < num_attention_heads) is checked against plain multi-head
// attention on an equivalent model: the same checkpoint with each key/value head's projection rows repeated for
// every query head of its group (transformers' repeat_kv). Both run two steps (a left-padded prefill, then one
// token with the KV cache) and must give the same logits. Tolerance 1e-5: the same float32 arithmetic in a
// different order.
const TOLERANCE = 1e-5;
const heads = 4;
const kvHeads = 2;
const headDim = 16;
const width = 64;
const layers = 2;

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'converter-gqa-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Rewrites a grouped checkpoint as the equivalent multi-head one (k_proj/v_proj rows repeated per group). */
function expandKeyValueHeads(grouped: string, expanded: string): void {
  const file = readRawSafetensors(join(grouped, 'model.safetensors'));
  const header: typeof file.header = { __metadata__: { format: 'pt' } };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, value] of Object.entries(file.header)) {
    if (name === '__metadata__') continue;
    const entry = value as { dtype: string; shape: number[]; data_offsets: [number, number] };
    let bytes = file.data.subarray(entry.data_offsets[0], entry.data_offsets[1]);
    let shape = entry.shape;
    if (/^language_model\.model\.layers\.\d+\.self_attn\.(k|v)_proj\.weight$/.test(name)) {
      const rowBytes = (bytes.byteLength / entry.shape[0]!) * headDim;
      const out = new Uint8Array(bytes.byteLength * (heads / kvHeads));
      for (let head = 0; head < heads; head++) {
        const source = Math.floor(head / (heads / kvHeads));
        out.set(bytes.subarray(source * rowBytes, (source + 1) * rowBytes), head * rowBytes);
      }
      bytes = out;
      shape = [heads * headDim, entry.shape[1]!];
    }
    header[name] = { dtype: entry.dtype, shape, data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  writeRawSafetensors(join(expanded, 'model.safetensors'), { header, data: Buffer.concat(chunks) });
  const config = JSON.parse(readFileSync(join(grouped, 'config.json'), 'utf8'));
  config.text_config.num_key_value_heads = heads;
  writeFileSync(join(expanded, 'config.json'), JSON.stringify(config));
}

async function twoSteps(file: string, keyValueHeads: number): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(file, { logSeverityLevel: 3, intraOpNumThreads: 1 });
  try {
    const batch = 2;
    const sequence = 6;
    const embeds = Float32Array.from({ length: batch * sequence * width }, (_, index) => Math.sin(index * 0.37));
    // Row 0 left-padded by two positions.
    const mask = BigInt64Array.from({ length: batch * sequence }, (_, index) => (index < 2 ? 0n : 1n));
    const positions = BigInt64Array.from({ length: batch * sequence }, (_, index) => {
      const row = Math.floor(index / sequence);
      const column = index % sequence;
      return row === 0 ? BigInt(Math.max(column - 2, 0)) : BigInt(column);
    });
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: new ort.Tensor('float32', embeds, [batch, sequence, width]),
      attention_mask: new ort.Tensor('int64', mask, [batch, sequence]),
      position_ids: new ort.Tensor('int64', positions, [batch, sequence]),
      num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(0n), []),
    };
    for (let layer = 0; layer < layers; layer++)
      for (const kind of ['key', 'value'])
        feeds[`past_key_values.${layer}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [
          batch,
          keyValueHeads,
          0,
          headDim,
        ]);
    const first = await session.run(feeds);
    expect(first[`present.0.key`]!.dims).toEqual([batch, keyValueHeads, sequence, headDim]);
    const next: Record<string, ort.Tensor> = {
      inputs_embeds: new ort.Tensor(
        'float32',
        Float32Array.from({ length: batch * width }, (_, index) => Math.cos(index)),
        [batch, 1, width],
      ),
      attention_mask: new ort.Tensor(
        'int64',
        BigInt64Array.from({ length: batch * (sequence + 1) }, (_, index) => (index < 2 ? 0n : 1n)),
        [batch, sequence + 1],
      ),
      position_ids: new ort.Tensor('int64', BigInt64Array.from([4n, 6n]), [batch, 1]),
      num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(1n), []),
    };
    for (let layer = 0; layer < layers; layer++)
      for (const kind of ['key', 'value'])
        next[`past_key_values.${layer}.${kind}`] = first[`present.${layer}.${kind}`]!;
    const second = await session.run(next);
    return [first.logits!.data as Float32Array, second.logits!.data as Float32Array];
  } finally {
    await session.release();
  }
}

describe('grouped-query attention', () => {
  it.each([false, true])(
    'equals multi-head attention with repeated key/value heads (contribOps %s)',
    async (contribOps) => {
      const grouped = join(root, `grouped-${contribOps}`);
      const expanded = join(root, `expanded-${contribOps}`);
      await writeSyntheticCheckpoint(grouped, {
        dtype: 'float32',
        config: { text_config: { num_key_value_heads: kvHeads } },
      });
      await writeSyntheticCheckpoint(expanded, { dtype: 'float32' });
      expandKeyValueHeads(grouped, expanded);
      const options = { parts: ['decoder_model_merged'] as const, contribOps, copyFiles: false };
      const groupedFile = join(
        (await convertCheckpoint(grouped, join(root, `grouped-${contribOps}-onnx`), options)).outputDirectory,
        'onnx',
        'decoder_model_merged.onnx',
      );
      const expandedFile = join(
        (await convertCheckpoint(expanded, join(root, `expanded-${contribOps}-onnx`), options)).outputDirectory,
        'onnx',
        'decoder_model_merged.onnx',
      );
      const [groupedPrefill, groupedStep] = await twoSteps(groupedFile, kvHeads);
      const [expandedPrefill, expandedStep] = await twoSteps(expandedFile, heads);
      // Compare the positions that are not padding (row 0's first two are: any finite values are fine there).
      const vocab = groupedPrefill!.length / 12;
      expect(
        measureDifference(groupedPrefill!.subarray(2 * vocab), expandedPrefill!.subarray(2 * vocab)).maxAbsDifference,
      ).toBeLessThanOrEqual(TOLERANCE);
      expect(measureDifference(groupedStep!, expandedStep!).maxAbsDifference).toBeLessThanOrEqual(TOLERANCE);
      expect(groupedStep!.every(Number.isFinite)).toBe(true);
    },
    60_000,
  );
});

import {
  readFileSync,
  readdirSync,
  truncateSync,
  writeFileSync,
  mkdtempSync,
  rmSync,
  statSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VideoLlavaError } from '@video-llava/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { editTensorHeader, readRawSafetensors, writeRawSafetensors } from '../../test/safetensors-edit.js';
import { formatConversionReport } from '../conversion-report.js';
import { convertCheckpoint } from './convert-checkpoint.js';
import { writeSyntheticCheckpoint } from './synthetic-checkpoint.js';

// Every bad checkpoint fails with a VideoLlavaError that has a stable code and names the file and the tensor or
// config field, before any output is written; the output folder never appears (nor any staging folder).

let root: string;
let checkpoint: string;
let output: string;

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'converter-bad-'));
  checkpoint = join(root, 'checkpoint');
  output = join(root, 'out');
  await writeSyntheticCheckpoint(checkpoint);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

async function conversionError(options: Parameters<typeof convertCheckpoint>[2] = {}): Promise<VideoLlavaError> {
  let caught: unknown;
  try {
    await convertCheckpoint(checkpoint, output, options);
  } catch (error) {
    caught = error;
  }
  expect(VideoLlavaError.isInstance(caught), `expected a VideoLlavaError, got ${String(caught)}`).toBe(true);
  // Nothing but the checkpoint is left in the parent folder: no output, no `out.partial-*`.
  expect(readdirSync(root)).toEqual(['checkpoint']);
  return caught as VideoLlavaError;
}

const weights = () => join(checkpoint, 'model.safetensors');
const fc1 = 'image_tower.vision_model.encoder.layers.0.mlp.fc1.weight';
const upProjection = 'language_model.model.layers.1.mlp.up_proj.weight';

describe('bad checkpoints are refused before anything is written', () => {
  it('a missing tensor: INVALID_CHECKPOINT naming the tensor and the shape the config implies', async () => {
    editTensorHeader(weights(), upProjection, () => undefined);
    const error = await conversionError();
    expect(error.code).toBe('INVALID_CHECKPOINT');
    expect(error.field).toBe(upProjection);
    expect(error.file).toBe(weights());
    expect(error.expected).toBe('a tensor of shape [128, 64]');
    expect(error.actual).toBe('missing');
    expect(error.message).toContain(upProjection);
  });

  it('no lm_head without tied embeddings: INVALID_CHECKPOINT naming lm_head and tie_word_embeddings', async () => {
    editTensorHeader(weights(), 'language_model.lm_head.weight', () => undefined);
    const error = await conversionError();
    expect([error.code, error.field, error.actual]).toEqual([
      'INVALID_CHECKPOINT',
      'language_model.lm_head.weight',
      'missing',
    ]);
    expect(error.message).toContain('text_config.tie_word_embeddings is false');
  });

  it('a tensor of the wrong shape: SHAPE_MISMATCH with the expected and actual shapes', async () => {
    editTensorHeader(weights(), fc1, (entry) => ({ ...entry, shape: [entry.shape[1]!, entry.shape[0]!] }));
    const error = await conversionError();
    expect(error.code).toBe('SHAPE_MISMATCH');
    expect(error.field).toBe(fc1);
    expect(error.expected).toEqual([64, 32]);
    expect(error.actual).toEqual([32, 64]);
    expect(error.message).toContain('vision_config.intermediate_size');
  });

  it('a tensor that is not a float type: DTYPE_MISMATCH', async () => {
    editTensorHeader(weights(), fc1, (entry) => ({ ...entry, dtype: 'I16' }));
    const error = await conversionError();
    expect(error.code).toBe('DTYPE_MISMATCH');
    expect(error.field).toBe(fc1);
    expect(error.expected).toEqual(['F32', 'F16', 'BF16']);
    expect(error.actual).toBe('I16');
  });

  it('a truncated safetensors file: INVALID_FILE naming the tensor that runs past the end', async () => {
    const size = statSync(weights()).size;
    truncateSync(weights(), size - 1000);
    const { header } = readRawSafetensors(weights());
    const last = Object.entries(header)
      .filter(([name]) => name !== '__metadata__')
      .sort(
        (a, b) =>
          (b[1] as { data_offsets: number[] }).data_offsets[1]! - (a[1] as { data_offsets: number[] }).data_offsets[1]!,
      )[0]![0];
    const error = await conversionError();
    expect(error.code).toBe('INVALID_FILE');
    expect(error.file).toBe(weights());
    expect(error.field).toBe(last);
    expect(error.message).toContain('truncated');
  });

  it('a file cut inside its header: INVALID_FILE', async () => {
    truncateSync(weights(), 100);
    const error = await conversionError();
    expect(error.code).toBe('INVALID_FILE');
    expect(error.file).toBe(weights());
    expect(error.field).toBe('header');
  });

  it('a header whose offsets overlap: INVALID_FILE naming both tensors', async () => {
    const file = readRawSafetensors(weights());
    const entries = Object.entries(file.header).filter(([name]) => name !== '__metadata__') as Array<
      [string, { dtype: string; shape: number[]; data_offsets: [number, number] }]
    >;
    entries.sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
    // Move a tensor onto bytes its predecessor owns (same length, so only the overlap is wrong).
    const [previousName, previous] = entries[10]!;
    const [name, entry] = entries[11]!;
    const length = entry.data_offsets[1] - entry.data_offsets[0];
    entry.data_offsets = [previous.data_offsets[0] + 2, previous.data_offsets[0] + 2 + length];
    writeRawSafetensors(weights(), file);
    const error = await conversionError();
    expect(error.code).toBe('INVALID_FILE');
    expect([previousName, name]).toContain(error.field);
    expect(error.message).toContain('overlap');
    expect(error.message).toContain(previousName);
    expect(error.message).toContain(name);
  });

  it('a header whose offsets run past the end of the file: INVALID_FILE', async () => {
    const dataBytes = readRawSafetensors(weights()).data.byteLength;
    editTensorHeader(weights(), fc1, (entry) => {
      const length = entry.data_offsets[1] - entry.data_offsets[0];
      return { ...entry, data_offsets: [dataBytes - length + 2, dataBytes + 2] };
    });
    const error = await conversionError();
    expect(error.code).toBe('INVALID_FILE');
    expect(error.field).toBe(fc1);
    expect(error.expected).toBe(`end <= ${dataBytes}`);
    expect(error.actual).toBe(dataBytes + 2);
  });

  it('data_offsets that disagree with dtype x shape: INVALID_FILE', async () => {
    editTensorHeader(weights(), fc1, (entry) => ({
      ...entry,
      data_offsets: [entry.data_offsets[0], entry.data_offsets[1] - 2],
    }));
    const error = await conversionError();
    expect(error.code).toBe('INVALID_FILE');
    expect(error.field).toBe(fc1);
    expect(error.expected).toBe(64 * 32 * 2);
  });

  it('a config whose dimensions disagree with the weights: SHAPE_MISMATCH naming the config field', async () => {
    const configPath = join(checkpoint, 'config.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8'));
    config.text_config.intermediate_size = 96;
    writeFileSync(configPath, JSON.stringify(config));
    const error = await conversionError();
    expect(error.code).toBe('SHAPE_MISMATCH');
    expect(error.field).toBe('language_model.model.layers.0.mlp.gate_proj.weight');
    expect(error.expected).toEqual([96, 64]);
    expect(error.actual).toEqual([128, 64]);
    expect(error.message).toContain('text_config.intermediate_size');
    expect(error.message).toContain(configPath);
  });

  it.each([
    [
      'rope scaling it lacks',
      (config: any): void => void (config.text_config.rope_scaling = { rope_type: 'llama3', factor: 8 }),
      'text_config.rope_scaling.rope_type',
      'llama3',
    ],
    [
      'a partial rotary factor',
      (config: any): void => void (config.text_config.partial_rotary_factor = 0.5),
      'text_config.partial_rotary_factor',
      0.5,
    ],
    [
      'a vision tower other than CLIP',
      (config: any): void => void (config.vision_config.model_type = 'siglip_vision_model'),
      'vision_config.model_type',
      'siglip_vision_model',
    ],
    [
      'a text model other than LLaMA',
      (config: any): void => void (config.text_config.model_type = 'mistral'),
      'text_config.model_type',
      'mistral',
    ],
    [
      'an activation the graphs lack',
      (config: any): void => void (config.text_config.hidden_act = 'mish'),
      'text_config.hidden_act',
      'mish',
    ],
    [
      'a projector activation the graphs lack',
      (config: any): void => void (config.projector_hidden_act = 'prelu'),
      'projector_hidden_act',
      'prelu',
    ],
  ] as const)(
    'a config transformers accepts but the converter does not implement (%s): UNSUPPORTED naming the field',
    async (_, edit, field, actual) => {
      const configPath = join(checkpoint, 'config.json');
      const config = JSON.parse(readFileSync(configPath, 'utf8'));
      edit(config);
      writeFileSync(configPath, JSON.stringify(config));
      const error = await conversionError();
      expect([error.code, error.field, error.actual]).toEqual(['UNSUPPORTED', field, actual]);
      expect(error.expected).toBeDefined();
      expect(error.file).toMatch(/config\.json$/);
      expect(error.message).toContain(field);
    },
  );

  it('a config with fewer layers than the weights: SHAPE_MISMATCH on the layer count', async () => {
    const configPath = join(checkpoint, 'config.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8'));
    config.text_config.num_hidden_layers = 1;
    writeFileSync(configPath, JSON.stringify(config));
    const error = await conversionError();
    expect(error.code).toBe('SHAPE_MISMATCH');
    expect(error.field).toBe('text_config.num_hidden_layers');
    expect(error.expected).toBe(2);
    expect(error.actual).toBe(1);
  });

  it('a folder without weights: INVALID_CHECKPOINT', async () => {
    rmSync(weights());
    const error = await conversionError();
    expect(error.code).toBe('INVALID_CHECKPOINT');
    expect(error.file).toBe(weights());
  });

  it('a shard index that disagrees with the shards: INVALID_CHECKPOINT naming the tensor', async () => {
    rmSync(checkpoint, { recursive: true });
    await writeSyntheticCheckpoint(checkpoint, { shards: 2 });
    const indexPath = join(checkpoint, 'model.safetensors.index.json');
    const index = JSON.parse(readFileSync(indexPath, 'utf8'));
    const name = Object.keys(index.weight_map)[0]!;
    index.weight_map[name] = 'model-00002-of-00002.safetensors';
    writeFileSync(indexPath, JSON.stringify(index));
    const error = await conversionError();
    expect(error.code).toBe('INVALID_CHECKPOINT');
    expect(error.file).toBe(indexPath);
    expect(error.field).toBe(`weight_map.${name}`);
  });

  it('a shard the index names but the folder lacks: FILE_NOT_FOUND', async () => {
    rmSync(checkpoint, { recursive: true });
    await writeSyntheticCheckpoint(checkpoint, { shards: 2 });
    rmSync(join(checkpoint, 'model-00002-of-00002.safetensors'));
    const error = await conversionError();
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.file).toBe(join(checkpoint, 'model-00002-of-00002.safetensors'));
  });
});

describe('the output folder appears only when complete', () => {
  it('an aborted conversion leaves nothing behind', async () => {
    const controller = new AbortController();
    const error = await conversionError({
      signal: controller.signal,
      onProgress: (event) => {
        if (event.done > 0) controller.abort();
      },
    });
    expect(error.code).toBe('ABORTED');
  });

  it('a non-empty output folder is refused without overwrite and left as it was; overwrite replaces an earlier output', async () => {
    mkdirSync(output);
    writeFileSync(join(output, 'keep.txt'), 'mine');
    await expect(convertCheckpoint(checkpoint, output)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      file: output,
    });
    // Not an earlier conversion output: overwrite refuses it too (output-folder.test.ts has the other cases).
    await expect(convertCheckpoint(checkpoint, output, { overwrite: true })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      file: output,
    });
    expect(readdirSync(output)).toEqual(['keep.txt']);
    rmSync(output, { recursive: true });
    await convertCheckpoint(checkpoint, output, { parts: ['video_encoder'] });
    const report = await convertCheckpoint(checkpoint, output, { overwrite: true, parts: ['embed_tokens'] });
    expect(readdirSync(output).sort()).toEqual([
      'config.json',
      'generation_config.json',
      'onnx',
      'video_llava_conversion.json',
    ]);
    expect(readdirSync(join(output, 'onnx'))).toEqual(['embed_tokens.onnx']);
    expect(report.files.map((file) => file.path).sort()).toEqual([
      'config.json',
      'generation_config.json',
      'onnx/embed_tokens.onnx',
    ]);
    expect(readdirSync(root).sort()).toEqual(['checkpoint', 'out']);
  });
});

describe('tensors the model does not use', () => {
  it('are listed in the report and left out, not refused', async () => {
    const file = readRawSafetensors(weights());
    const extra = 'image_tower.vision_model.embeddings.position_ids';
    const end = file.data.byteLength;
    file.header[extra] = { dtype: 'I64', shape: [1, 2], data_offsets: [end, end + 16] };
    writeRawSafetensors(weights(), { header: file.header, data: Buffer.concat([file.data, new Uint8Array(16)]) });
    const report = await convertCheckpoint(checkpoint, output, { parts: ['embed_tokens'] });
    expect(report.unusedTensors).toEqual([extra]);
    expect(formatConversionReport(report)).toContain(
      `1 checkpoint tensor(s) not used by the model, not converted: ${extra}`,
    );
  });
});

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertClose, fixtureCases, tinyFixture } from '@video-llava/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSessions, runCase } from '../../test/model-runner.js';
import { readRawSafetensors } from '../../test/safetensors-edit.js';
import { canonicalName } from '../checkpoint-layout.js';
import { convertCheckpoint } from './convert-checkpoint.js';
import { videoLlava7bDimensions, writeSyntheticCheckpoint } from './synthetic-checkpoint.js';

// The generator draws values exactly representable in float16 and bfloat16, so the same seed is the same model
// whatever the storage dtype, naming layout or sharding: their conversions must compute identical outputs.

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'converter-synthetic-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('writeSyntheticCheckpoint', () => {
  it('writes the hub layout, a sharded index, and the requested dtype', async () => {
    const result = await writeSyntheticCheckpoint(join(root, 'layout'), { dtype: 'bfloat16', shards: 3 });
    expect(result.weightFiles).toEqual([
      'model-00001-of-00003.safetensors',
      'model-00002-of-00003.safetensors',
      'model-00003-of-00003.safetensors',
    ]);
    const index = JSON.parse(readFileSync(join(root, 'layout', 'model.safetensors.index.json'), 'utf8'));
    expect(Object.keys(index.weight_map)).toHaveLength(result.tensorCount);
    // Every shard holds tensors.
    expect(new Set(Object.values(index.weight_map))).toEqual(new Set(result.weightFiles));
    expect(index.metadata.total_size).toBe(result.weightBytes);
    const first = readRawSafetensors(join(root, 'layout', result.weightFiles[0]!));
    expect(first.header['image_tower.vision_model.embeddings.class_embedding']).toMatchObject({
      dtype: 'BF16',
      shape: [32],
    });
    // Every tensor of the reference model (name and shape, from transformers), under the hub's names.
    const shapes: Record<string, number[]> = {};
    for (const file of result.weightFiles) {
      for (const [name, entry] of Object.entries(readRawSafetensors(join(root, 'layout', file)).header)) {
        if (name !== '__metadata__') shapes[canonicalName(name)!] = (entry as { shape: number[] }).shape;
      }
    }
    expect(shapes).toEqual(tinyFixture.json<Record<string, number[]>>('param_names.json'));
  });

  it('7B dimensions: the config of LanguageBind/Video-LLaVA-7B-hf with fewer layers', () => {
    const dimensions = videoLlava7bDimensions({ text: 2, vision: 3 }) as {
      text_config: Record<string, number>;
      vision_config: Record<string, number>;
    };
    expect(dimensions.text_config).toMatchObject({
      hidden_size: 4096,
      intermediate_size: 11008,
      num_attention_heads: 32,
      num_hidden_layers: 2,
      vocab_size: 32064,
    });
    expect(dimensions.vision_config).toMatchObject({
      hidden_size: 1024,
      intermediate_size: 4096,
      num_attention_heads: 16,
      num_hidden_layers: 3,
    });
  });
});

describe('bfloat16 and sharded checkpoints convert and run', () => {
  const imageAndVideo = fixtureCases().find((fixtureCase) => fixtureCase.name === 'image_and_video')!;

  async function convertAndRun(
    name: string,
    options: Parameters<typeof writeSyntheticCheckpoint>[1],
    convertOptions: Parameters<typeof convertCheckpoint>[2] = {},
  ) {
    const checkpoint = join(root, name);
    await writeSyntheticCheckpoint(checkpoint, { ...options, copyFilesFrom: tinyFixture.model });
    // The checkpoint readers are under test: the key/value buffer and int8 cache decoders only where external data is
    // (see below).
    const report = await convertCheckpoint(checkpoint, join(root, `${name}-onnx`), {
      kvBufferDecoder: false,
      int8CacheDecoder: false,
      ...convertOptions,
    });
    const sessions = await loadSessions(report.outputDirectory);
    try {
      const run = await runCase(sessions, imageAndVideo);
      return { report, run };
    } finally {
      await sessions.release();
    }
  }

  it('float16 in one file, bfloat16 in 3 shards, float32 in 2 shards (three naming layouts) and external data give identical outputs', async () => {
    const reference = await convertAndRun('f16-single', { dtype: 'float16', layout: 'hub' });
    const bf16 = await convertAndRun('bf16-sharded', { dtype: 'bfloat16', shards: 3, layout: 'transformers-v5-saved' });
    const f32 = await convertAndRun('f32-sharded', { dtype: 'float32', shards: 2, layout: 'transformers-v5' });
    // Weights in external data files (as parts past 2 GB are) load and compute the same.
    const external = await convertAndRun(
      'f16-external',
      { dtype: 'float16' },
      { externalDataThreshold: 0, kvBufferDecoder: true, int8CacheDecoder: true },
    );
    // decoder_kv_buffer.onnx is a graph only: its weights are decoder_model_merged.onnx_data's.
    const onnxFolder = join(external.report.outputDirectory, 'onnx');
    expect(statSync(join(onnxFolder, 'decoder_kv_buffer.onnx')).size).toBeLessThan(
      statSync(join(onnxFolder, 'decoder_model_merged.onnx_data')).size / 10,
    );
    const buffered = await loadSessions(external.report.outputDirectory, '', undefined, 3);
    try {
      const run = await runCase(buffered, imageAndVideo);
      assertClose(run.logitsLast, external.run.logitsLast, 1e-5, 'decoder_kv_buffer on shared external data');
    } finally {
      await buffered.release();
    }
    // So is decoder_kv_int8.onnx; its prefill logits are within the int8 cache's bound (int8-cache.test.ts).
    expect(statSync(join(onnxFolder, 'decoder_kv_int8.onnx')).size).toBeLessThan(
      statSync(join(onnxFolder, 'decoder_model_merged.onnx_data')).size / 10,
    );
    const int8 = await loadSessions(external.report.outputDirectory, '', undefined, undefined, true);
    try {
      const run = await runCase(int8, imageAndVideo, false, 1);
      assertClose(run.logitsLast, external.run.logitsLast, 5e-3, 'decoder_kv_int8 on shared external data');
    } finally {
      await int8.release();
    }
    expect(
      readdirSync(join(external.report.outputDirectory, 'onnx'))
        .filter((name) => name.endsWith('.onnx_data'))
        .sort(),
    ).toEqual([
      'decoder_model_merged.onnx_data',
      'embed_tokens.onnx_data',
      'image_encoder.onnx_data',
      'video_encoder.onnx_data',
    ]);
    // A complete model folder of the contract.
    expect(readdirSync(bf16.report.outputDirectory).sort()).toEqual([
      'config.json',
      'generation_config.json',
      'onnx',
      'processor_config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'video_llava_conversion.json',
    ]);
    expect(readdirSync(join(bf16.report.outputDirectory, 'onnx')).sort()).toEqual([
      'decoder_model_merged.onnx',
      'embed_tokens.onnx',
      'image_encoder.onnx',
      'video_encoder.onnx',
    ]);
    const logits = reference.run.logitsLast;
    expect(logits.every(Number.isFinite)).toBe(true);
    // Not a degenerate model: the logits spread.
    expect(Math.max(...logits) - Math.min(...logits)).toBeGreaterThan(0.01);
    // Bit-identical (compared as bytes: a deep equality over 10^5 floats is slow).
    const bytes = (values: Float32Array) => Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    for (const other of [bf16, f32, external]) {
      expect(other.run.projectorOutputs).toHaveLength(2);
      other.run.projectorOutputs.forEach((output, index) =>
        expect(bytes(output).equals(bytes(reference.run.projectorOutputs[index]!))).toBe(true),
      );
      expect(bytes(other.run.logitsLast).equals(bytes(logits))).toBe(true);
    }
  }, 120_000);
});

describe('vision feature selection from the config', () => {
  it('strategy "full" keeps the CLS token for images; a list of feature layers widens the projector input', async () => {
    const checkpoint = join(root, 'full-two-layers');
    await writeSyntheticCheckpoint(checkpoint, {
      dtype: 'float32',
      config: { vision_feature_select_strategy: 'full', vision_feature_layer: [-3, -1] },
    });
    const header = readRawSafetensors(join(checkpoint, 'model.safetensors')).header;
    // Two hidden states of width 32 side by side.
    expect(header['multi_modal_projector.linear_1.weight']).toMatchObject({ shape: [64, 64] });
    const report = await convertCheckpoint(checkpoint, join(root, 'full-two-layers-onnx'), {
      parts: ['image_encoder', 'video_encoder'],
      copyFiles: false,
    });
    const ort = await import('onnxruntime-node');
    const open = (name: string) =>
      ort.InferenceSession.create(join(report.outputDirectory, 'onnx', `${name}.onnx`), { logSeverityLevel: 3 });
    const [image, video] = await Promise.all([open('image_encoder'), open('video_encoder')]);
    try {
      const pixels = Float32Array.from({ length: 3 * 224 * 224 }, (_, index) => Math.sin(index * 0.01));
      const { image_features } = await image.run({ pixel_values: new ort.Tensor('float32', pixels, [1, 3, 224, 224]) });
      expect(image_features!.dims).toEqual([1, 257, 64]);
      const frames = new Float32Array(2 * pixels.length);
      frames.set(pixels);
      frames.set(pixels, pixels.length);
      const { video_features } = await video.run({
        pixel_values_videos: new ort.Tensor('float32', frames, [1, 2, 3, 224, 224]),
      });
      expect(video_features!.dims).toEqual([1, 2 * 257, 64]);
      // Both frames are the same picture, so both halves of the video features are the same.
      const values = video_features!.data as Float32Array;
      expect(
        Buffer.from(values.buffer, values.byteOffset, values.byteLength / 2).equals(
          Buffer.from(values.buffer, values.byteOffset + values.byteLength / 2, values.byteLength / 2),
        ),
      ).toBe(true);
    } finally {
      await Promise.all([image.release(), video.release()]);
    }
  }, 60_000);
});

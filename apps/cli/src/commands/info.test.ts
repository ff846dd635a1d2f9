import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repositoryRoot, startHubTestServer, tinyFixture } from '@video-llava/test-utils';
import { describe, expect, it } from 'vitest';
import { runCliForTest } from '../run-cli-for-test.js';

describe('video-llava info', () => {
  it('prints one JSON object with the reference token counts for the tiny fixture', async () => {
    const run = await runCliForTest(['info', 'fixtures/video-llava-tiny/model', '--json'], { cwd: repositoryRoot });
    expect(run.code).toBe(0);
    const info = JSON.parse(run.out);
    const config = JSON.parse(readFileSync(join(tinyFixture.model, 'config.json'), 'utf8'));
    expect([info.tokensPerImage, info.tokensPerFrame, info.tokensPerVideo, info.framesPerVideo]).toEqual([
      256, 257, 2056, 8,
    ]);
    expect(info.vocabSize).toBe(config.text_config.vocab_size);
    expect(info.storedDtype).toBe(config.dtype);
    expect(info.processorLayout).toBe('v5');
    expect(info.vision).toMatchObject({
      hiddenSize: config.vision_config.hidden_size,
      numHiddenLayers: config.vision_config.num_hidden_layers,
      numAttentionHeads: config.vision_config.num_attention_heads,
      intermediateSize: config.vision_config.intermediate_size,
      imageSize: 224,
      patchSize: 14,
    });
    expect(info.text).toMatchObject({
      hiddenSize: config.text_config.hidden_size,
      numHiddenLayers: config.text_config.num_hidden_layers,
      numAttentionHeads: config.text_config.num_attention_heads,
      numKeyValueHeads: config.text_config.num_key_value_heads,
      headDim: config.text_config.head_dim,
      maxPositionEmbeddings: config.text_config.max_position_embeddings,
      ropeTheta: config.text_config.rope_parameters.rope_theta,
    });
    expect(run.err).toBe('');
  });

  it('prints a human-readable summary by default', async () => {
    const run = await runCliForTest(['info', tinyFixture.model], { cwd: repositoryRoot });
    expect(run.code).toBe(0);
    expect(run.out).toContain('Vision tower (CLIP');
    expect(run.out).toContain('Text model (LLaMA');
    expect(run.out).toContain('per image 256, per frame 257, per video 2056 (8 frames)');
    expect(run.out).toContain('stored dtype      float16');
  });

  it('a missing folder exits 1 with a message naming the missing folder (not a missing config.json in it)', async () => {
    const run = await runCliForTest(['info', 'fixtures/no-such-model/model'], { cwd: repositoryRoot });
    expect(run.code).toBe(1);
    expect(run.err).toBe(
      `video-llava info: <model-dir> fixtures/no-such-model/model: no such folder (${join(repositoryRoot, 'fixtures/no-such-model/model')}). Give a model folder, a hub id (org/name) or a URL.\n`,
    );
    expect(run.out).toBe('');
  });

  it('lists the ONNX variants of a converted folder with their sizes, external data included', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'video-llava-cli-info-'));
    try {
      await cp(tinyFixture.model, folder, { recursive: true });
      await mkdir(join(folder, 'onnx'));
      await writeFile(join(folder, 'onnx', 'decoder_model_merged_q4.onnx'), new Uint8Array(3000));
      await writeFile(join(folder, 'onnx', 'decoder_model_merged.onnx'), new Uint8Array(1024));
      await writeFile(join(folder, 'onnx', 'decoder_model_merged.onnx_data'), new Uint8Array(2 * 2 ** 20));
      const json = await runCliForTest(['info', folder, '--json']);
      expect(JSON.parse(json.out).onnxVariants).toEqual([
        {
          part: 'decoder_model_merged',
          dtype: 'fp32',
          file: 'decoder_model_merged.onnx',
          bytes: 1024 + 2 * 2 ** 20,
          externalData: ['decoder_model_merged.onnx_data'],
        },
        {
          part: 'decoder_model_merged',
          dtype: 'q4',
          file: 'decoder_model_merged_q4.onnx',
          bytes: 3000,
          externalData: [],
        },
      ]);
      const text = await runCliForTest(['info', folder]);
      expect(text.out).toContain(
        '  fp32  decoder_model_merged.onnx        2.0 MiB (with decoder_model_merged.onnx_data)\n  q4    decoder_model_merged_q4.onnx     2.9 KiB\n',
      );
      expect(JSON.parse(json.out).prepackedCache).toBeUndefined();
      const raw = await runCliForTest(['info', tinyFixture.model, '--json']);
      expect(JSON.parse(raw.out).onnxVariants).toEqual([]);
      // entries written by loads (--prepack-cache's default folder): counted and summed, not listed as variants
      const entry = join(folder, 'onnx', '.prepacked', 'decoder_model_merged_q4-0123456789abcdef');
      await mkdir(entry, { recursive: true });
      await writeFile(join(entry, 'model.onnx'), new Uint8Array(1000));
      await writeFile(join(entry, 'model.onnx.data'), new Uint8Array(3 * 2 ** 20));
      const cached = JSON.parse((await runCliForTest(['info', folder, '--json'])).out);
      expect(cached.prepackedCache).toEqual({
        folder: join(folder, 'onnx', '.prepacked'),
        entries: 1,
        bytes: 1000 + 3 * 2 ** 20,
      });
      expect(cached.onnxVariants).toHaveLength(2);
      expect((await runCliForTest(['info', folder])).out).toContain(
        'Prepacked weights (written by loads, --prepack-cache): 1 entry, 3.0 MiB',
      );
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('without a model it is a usage error (exit 2)', async () => {
    const run = await runCliForTest(['info'], { cwd: repositoryRoot });
    expect(run.code).toBe(2);
    expect(run.err).toContain('Usage: video-llava info');
  });

  it('accepts a hub id, using HF_ENDPOINT and HF_HUB_CACHE from the environment', async () => {
    const commit = 'f'.repeat(40);
    const files = Object.fromEntries(
      ['config.json', 'generation_config.json', 'processor_config.json'].map((name) => [
        name,
        readFileSync(join(tinyFixture.model, name)),
      ]),
    );
    const hub = await startHubTestServer({ repo: 'tiny-org/tiny', commit, files });
    const cache = await mkdtemp(join(tmpdir(), 'video-llava-cli-'));
    try {
      const run = await runCliForTest(['info', 'tiny-org/tiny', '--json'], {
        cwd: cache,
        env: { HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache },
      });
      expect(run.code).toBe(0);
      expect(JSON.parse(run.out).tokensPerVideo).toBe(2056);
    } finally {
      await hub.close();
      await rm(cache, { recursive: true, force: true });
    }
  });
});

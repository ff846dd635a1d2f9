import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repositoryRoot, tinyFixture } from '@video-llava/test-utils';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { createTestIo } from '../test-io.js';

describe('video-llava info', () => {
  it('prints one JSON object with the reference token counts for the tiny fixture', async () => {
    const io = createTestIo(repositoryRoot);
    expect(await runCli(['info', 'fixtures/video-llava-tiny/model', '--json'], io)).toBe(0);
    const info = JSON.parse(io.out());
    const config = JSON.parse(readFileSync(join(tinyFixture.model, 'config.json'), 'utf8'));
    expect([info.tokensPerImage, info.tokensPerFrame, info.tokensPerVideo, info.framesPerVideo]).toEqual([256, 257, 2056, 8]);
    expect(info.vocabSize).toBe(config.text_config.vocab_size);
    expect(info.storedDtype).toBe(config.dtype);
    expect(info.processorLayout).toBe('v5');
    expect(info.vision).toMatchObject({ hiddenSize: config.vision_config.hidden_size, numHiddenLayers: config.vision_config.num_hidden_layers, numAttentionHeads: config.vision_config.num_attention_heads, intermediateSize: config.vision_config.intermediate_size, imageSize: 224, patchSize: 14 });
    expect(info.text).toMatchObject({
      hiddenSize: config.text_config.hidden_size,
      numHiddenLayers: config.text_config.num_hidden_layers,
      numAttentionHeads: config.text_config.num_attention_heads,
      numKeyValueHeads: config.text_config.num_key_value_heads,
      headDim: config.text_config.head_dim,
      maxPositionEmbeddings: config.text_config.max_position_embeddings,
      ropeTheta: config.text_config.rope_parameters.rope_theta,
    });
    expect(io.err()).toBe('');
  });

  it('prints a human-readable summary by default', async () => {
    const io = createTestIo(repositoryRoot);
    expect(await runCli(['info', tinyFixture.model], io)).toBe(0);
    expect(io.out()).toContain('Vision tower (CLIP');
    expect(io.out()).toContain('Text model (LLaMA');
    expect(io.out()).toContain('per image 256, per frame 257, per video 2056 (8 frames)');
    expect(io.out()).toContain('stored dtype      float16');
  });

  it('a missing folder exits 1 with a message naming the file', async () => {
    const io = createTestIo(repositoryRoot);
    expect(await runCli(['info', 'fixtures/no-such-model/model'], io)).toBe(1);
    expect(io.err()).toContain(join(repositoryRoot, 'fixtures/no-such-model/model/config.json'));
    expect(io.out()).toBe('');
  });

  it('without a model it is a usage error (exit 2)', async () => {
    const io = createTestIo(repositoryRoot);
    expect(await runCli(['info'], io)).toBe(2);
    expect(io.err()).toContain('Usage: video-llava info');
  });

  it('accepts a hub id, using HF_ENDPOINT and HF_HUB_CACHE from the environment', async () => {
    const commit = 'f'.repeat(40);
    const files = Object.fromEntries(['config.json', 'generation_config.json', 'processor_config.json'].map((name) => [name, readFileSync(join(tinyFixture.model, name))]));
    const server = createServer((request, response) => {
      const prefix = '/tiny-org/tiny/resolve/main/';
      const body = request.url?.startsWith(prefix) ? files[decodeURIComponent(request.url.slice(prefix.length))] : undefined;
      if (!body) {
        response.writeHead(404, { 'X-Repo-Commit': commit });
        response.end();
        return;
      }
      response.writeHead(200, { 'X-Repo-Commit': commit, ETag: `"${body.length}-${request.url!.length}"`, 'Content-Length': String(body.length) });
      response.end(request.method === 'HEAD' ? undefined : body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const cache = await mkdtemp(join(tmpdir(), 'video-llava-cli-'));
    try {
      const io = createTestIo(cache);
      io.env = { HF_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, HF_HUB_CACHE: cache };
      expect(await runCli(['info', 'tiny-org/tiny', '--json'], io)).toBe(0);
      expect(JSON.parse(io.out()).tokensPerVideo).toBe(2056);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(cache, { recursive: true, force: true });
    }
  });
});

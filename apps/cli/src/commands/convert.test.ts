import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repositoryRoot, tinyFixture } from '@video-llava/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { createTestIo } from '../test-io.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'video-llava-cli-convert-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('video-llava convert', () => {
  it('--dtype q4 --json writes the complete model folder and prints the report; progress goes to stderr', async () => {
    const io = createTestIo(repositoryRoot);
    const output = join(root, 'q4');
    expect(await runCli(['convert', 'fixtures/video-llava-tiny/model', output, '--dtype', 'q4', '--block-size', '16', '--json'], io)).toBe(0);
    const report = JSON.parse(io.out());
    expect(report.outputDirectory).toBe(output);
    expect(report.dtypes).toEqual(['q4']);
    const onnxFiles = ['decoder_model_merged_q4.onnx', 'embed_tokens_q4.onnx', 'image_encoder_q4.onnx', 'video_encoder_q4.onnx'];
    expect(readdirSync(join(output, 'onnx')).sort()).toEqual(onnxFiles);
    expect(readdirSync(output).sort()).toEqual(readdirSync(tinyFixture.model).filter((name) => name !== 'model.safetensors').concat('onnx').sort());
    for (const file of report.files) expect(readFileSync(join(output, file.path)).byteLength).toBe(file.bytes);
    expect(report.files.find((file: { path: string }) => file.path === 'onnx/decoder_model_merged_q4.onnx').weightError.maxAbsError).toBeGreaterThan(0);
    // Standard ONNX ops unless --contrib-ops.
    expect(readFileSync(join(output, 'onnx', 'decoder_model_merged_q4.onnx')).includes('MultiHeadAttention')).toBe(false);
    expect(io.err()).toContain('100.0%');
    expect(io.err()).toContain('onnx/decoder_model_merged_q4.onnx');
  });

  it('prints a table of files, bytes and weight errors by default; several --dtype values add variants', async () => {
    const io = createTestIo(repositoryRoot);
    const output = join(root, 'fp16-q8');
    expect(await runCli(['convert', tinyFixture.model, output, '--dtype', 'fp16,q8', '--contrib-ops'], io)).toBe(0);
    expect(io.out()).toContain(`-> ${output} (fp16, q8)`);
    expect(io.out()).toMatch(/onnx\/decoder_model_merged_q8\.onnx\s+\S+ \S+\s+\d+/);
    expect(io.out()).toContain('onnx/embed_tokens_fp16.onnx');
    expect(readdirSync(join(output, 'onnx'))).toHaveLength(8);
    // --contrib-ops: the q8 decoder uses ONNX Runtime's fused attention; fp16 keeps standard ops.
    expect(readFileSync(join(output, 'onnx', 'decoder_model_merged_q8.onnx')).includes('MultiHeadAttention')).toBe(true);
    expect(readFileSync(join(output, 'onnx', 'decoder_model_merged_fp16.onnx')).includes('MultiHeadAttention')).toBe(false);
  });

  it('usage errors exit 2: missing <out-dir>, an unknown --dtype', async () => {
    const missing = createTestIo(repositoryRoot);
    expect(await runCli(['convert', tinyFixture.model], missing)).toBe(2);
    expect(missing.err()).toContain('missing <out-dir>');
    expect(missing.err()).toContain('Usage: video-llava convert');
    const dtype = createTestIo(repositoryRoot);
    expect(await runCli(['convert', tinyFixture.model, join(root, 'never'), '--dtype', 'int3'], dtype)).toBe(2);
    expect(dtype.err()).toContain('fp32, fp16, q8, q4');
    expect(existsSync(join(root, 'never'))).toBe(false);
  });

  it('a bad checkpoint exits 1 naming the file, and writes no output folder', async () => {
    const checkpoint = join(root, 'bad-checkpoint');
    const io = createTestIo(repositoryRoot);
    // A config copy without its weights.
    await mkdir(checkpoint);
    await writeFile(join(checkpoint, 'config.json'), readFileSync(join(tinyFixture.model, 'config.json')));
    expect(await runCli(['convert', checkpoint, join(root, 'bad-out')], io)).toBe(1);
    expect(io.err()).toContain(`${checkpoint}: has neither model.safetensors nor model.safetensors.index.json`);
    expect(existsSync(join(root, 'bad-out'))).toBe(false);
  });

  it('accepts a hub id, downloading through HF_ENDPOINT into HF_HUB_CACHE', async () => {
    const commit = 'e'.repeat(40);
    const files = Object.fromEntries(readdirSync(tinyFixture.model).map((name) => [name, readFileSync(join(tinyFixture.model, name))]));
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
    const cache = join(root, 'hub-cache');
    try {
      const io = createTestIo(root);
      io.env = { HF_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, HF_HUB_CACHE: cache };
      expect(await runCli(['convert', 'tiny-org/tiny', 'from-hub', '--dtype', 'q8', '--json'], io)).toBe(0);
      const report = JSON.parse(io.out());
      expect(report.source).toBe('tiny-org/tiny');
      expect(report.checkpointDirectory).toBe(join(cache, 'models--tiny-org--tiny', 'snapshots', commit));
      expect(readdirSync(join(root, 'from-hub', 'onnx'))).toContain('decoder_model_merged_q8.onnx');
      expect(readFileSync(join(root, 'from-hub', 'tokenizer.json')).equals(files['tokenizer.json']!)).toBe(true);
    } finally {
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await closed;
    }
  });
});

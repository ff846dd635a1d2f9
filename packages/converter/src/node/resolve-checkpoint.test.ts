import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VideoLlavaError } from '@video-llava/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint } from './convert-checkpoint.js';
import { writeSyntheticCheckpoint } from './synthetic-checkpoint.js';

// Hub ids download through @video-llava/config's hub cache, here from a local server speaking the hub's
// resolve protocol (HF_ENDPOINT); no network.
const commit = 'c'.repeat(40);
let root: string;
let server: Server;
let files: Record<string, Buffer>;
const requested: string[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'converter-hub-'));
  const checkpoint = join(root, 'checkpoint');
  await writeSyntheticCheckpoint(checkpoint, { shards: 3, dtype: 'bfloat16' });
  files = Object.fromEntries(readdirSync(checkpoint).map((name) => [name, readFileSync(join(checkpoint, name))]));
  server = createServer((request, response) => {
    const match = /^\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/.exec(request.url ?? '');
    const repository = match?.[1];
    const name = match ? decodeURIComponent(match[2]!) : '';
    let body = repository === 'org/sharded' ? files[name] : undefined;
    if (repository === 'org/bad-index' && name === 'model.safetensors.index.json')
      body = Buffer.from('{"weight_map": ');
    if (repository === 'org/bad-index' && name === 'config.json') body = files['config.json'];
    if (request.method === 'GET' && body) requested.push(`${repository}/${name}`);
    if (!body) {
      response.writeHead(404, { 'X-Repo-Commit': commit });
      response.end();
      return;
    }
    response.writeHead(200, {
      'X-Repo-Commit': commit,
      ETag: `"${body.length}-${name}"`,
      'Content-Length': String(body.length),
    });
    response.end(request.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeAllConnections();
  await closed;
  rmSync(root, { recursive: true, force: true });
});

const sourceOptions = () => ({
  env: { HF_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, HF_HUB_CACHE: join(root, 'cache') },
});

describe('converting from a hub id', () => {
  it('downloads config, index and every shard into the hub cache, then converts', async () => {
    const report = await convertCheckpoint('org/sharded', join(root, 'out'), {
      parts: ['embed_tokens'],
      sourceOptions: sourceOptions(),
    });
    expect(report.checkpointDirectory).toBe(join(root, 'cache', 'models--org--sharded', 'snapshots', commit));
    const shards = Object.keys(files).filter((name) => name.endsWith('.safetensors'));
    expect(shards).toHaveLength(3);
    for (const name of ['config.json', 'model.safetensors.index.json', ...shards])
      expect(requested).toContain(`org/sharded/${name}`);
    expect(readdirSync(join(root, 'out', 'onnx'))).toEqual(['embed_tokens.onnx']);
  });

  it('an index that is not JSON: a VideoLlavaError naming the file, and no output', async () => {
    let caught: unknown;
    try {
      await convertCheckpoint('org/bad-index', join(root, 'bad-out'), { sourceOptions: sourceOptions() });
    } catch (error) {
      caught = error;
    }
    expect(VideoLlavaError.isInstance(caught)).toBe(true);
    expect((caught as VideoLlavaError).code).toBe('INVALID_JSON');
    expect((caught as VideoLlavaError).file).toContain('model.safetensors.index.json');
    expect(readdirSync(root)).not.toContain('bad-out');
  });
});

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProgressEvent } from '@video-llava/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { catchError } from '../test/catch-error.js';
import { type HubTestServer, lfsEtag, regularEtag, startHubTestServer, tinyFixture } from '@video-llava/test-utils';
import { CachedHubSource, type CachedHubSourceOptions } from './cached-hub-source.js';
import { loadPretrainedConfig } from './load.js';

const repo = 'tiny-org/video-llava-tiny';
const commit = '0123456789abcdef0123456789abcdef01234567';
const tinyFiles = Object.fromEntries(
  ['config.json', 'generation_config.json', 'processor_config.json'].map((name) => [
    name,
    readFileSync(join(tinyFixture.model, name)),
  ]),
);
const weights = new Uint8Array(400_000).map((_, index) => (index * 2654435761) >>> 24);
const weightsEtag = regularEtag(weights);

describe('CachedHubSource', () => {
  let server: HubTestServer;
  let cache: string;
  let repositoryFolder: string;
  const source = (options: CachedHubSourceOptions = {}) =>
    new CachedHubSource(repo, { env: { HF_ENDPOINT: server.url, HF_HUB_CACHE: cache }, ...options });

  beforeEach(async () => {
    server = await startHubTestServer({
      repo,
      commit,
      files: { ...tinyFiles, 'onnx/weights.bin': weights, 'model.safetensors': weights.slice(0, 123_457) },
      lfs: ['model.safetensors'],
    });
    cache = await mkdtemp(join(tmpdir(), 'video-llava-hub-'));
    repositoryFolder = join(cache, 'models--tiny-org--video-llava-tiny');
  });
  afterEach(async () => {
    await server.close();
    await rm(cache, { recursive: true, force: true });
  });

  it('writes the hub cache layout, and a second load makes no request', async () => {
    const first = await loadPretrainedConfig(source());
    expect([first.derived.tokensPerImage, first.derived.tokensPerFrame, first.derived.tokensPerVideo]).toEqual([
      256, 257, 2056,
    ]);
    expect(server.requests.length).toBeGreaterThan(0);

    expect((await readFile(join(repositoryFolder, 'refs', 'main'), 'utf8')).trim()).toBe(commit);
    const configEtag = regularEtag(tinyFiles['config.json']!);
    expect(readFileSync(join(repositoryFolder, 'blobs', configEtag))).toEqual(tinyFiles['config.json']);
    const snapshot = join(repositoryFolder, 'snapshots', commit, 'config.json');
    expect(await readlink(snapshot)).toBe(join('..', '..', 'blobs', configEtag));
    expect(readFileSync(snapshot)).toEqual(tinyFiles['config.json']);
    // absent optional files are remembered, like huggingface_hub's .no_exist
    expect(existsSync(join(repositoryFolder, '.no_exist', commit, 'preprocessor_config.json'))).toBe(true);
    expect(readdirSync(join(repositoryFolder, 'blobs')).some((name) => name.endsWith('.incomplete'))).toBe(false);

    const before = server.requests.length;
    const second = await loadPretrainedConfig(source());
    expect(second.derived).toEqual(first.derived);
    expect(server.requests.length).toBe(before);
  });

  it('sends the token, reads the endpoint from HF_ENDPOINT and the cache folder from HF_HOME', async () => {
    server.options.requiredToken = 'hf_secret';
    const home = join(cache, 'home');
    const hub = new CachedHubSource(repo, { env: { HF_ENDPOINT: server.url, HF_HOME: home, HF_TOKEN: 'hf_secret' } });
    expect(hub.cacheDirectory).toBe(join(home, 'hub'));
    await loadPretrainedConfig(hub);
    expect(server.requests.every((entry) => entry.authorization === 'Bearer hf_secret')).toBe(true);
    expect(
      existsSync(join(home, 'hub', 'models--tiny-org--video-llava-tiny', 'snapshots', commit, 'config.json')),
    ).toBe(true);
  });

  it('reports download progress with bytes done and total, then reads cache hits without a request', async () => {
    const events: ProgressEvent[] = [];
    const bytes = await source().readBytes('onnx/weights.bin', { onProgress: (event) => events.push(event) });
    expect(bytes).toEqual(weights);
    const downloads = events.filter((event) => event.stage === 'download');
    expect(downloads[0]).toMatchObject({ file: 'onnx/weights.bin', done: 0, total: weights.length, unit: 'bytes' });
    expect(downloads.at(-1)).toMatchObject({ done: weights.length, total: weights.length });
    expect(downloads.length).toBeGreaterThan(2);
    const before = server.requests.length;
    const again: ProgressEvent[] = [];
    expect(await source().readBytes('onnx/weights.bin', { onProgress: (event) => again.push(event) })).toEqual(weights);
    expect(server.requests.length).toBe(before);
    expect(again).toEqual([
      { stage: 'read', file: 'onnx/weights.bin', done: weights.length, total: weights.length, unit: 'bytes' },
    ]);
  });

  it('resumes a partial download with a Range request for the remaining bytes only', async () => {
    const have = 150_000;
    await mkdir(join(repositoryFolder, 'blobs'), { recursive: true });
    await writeFile(join(repositoryFolder, 'blobs', `${weightsEtag}.incomplete`), weights.subarray(0, have));
    const events: ProgressEvent[] = [];
    const bytes = await source().readBytes('onnx/weights.bin', { onProgress: (event) => events.push(event) });
    expect(bytes).toEqual(weights);
    const gets = server.requests.filter((entry) => entry.method === 'GET');
    expect(gets).toHaveLength(1);
    expect(gets[0]!.range).toBe(`bytes=${have}-`);
    expect(gets[0]!.sent).toBe(weights.length - have);
    expect(events[0]).toMatchObject({ stage: 'download', done: have, total: weights.length });
    expect(existsSync(join(repositoryFolder, 'blobs', `${weightsEtag}.incomplete`))).toBe(false);
  });

  it('starts over when the server ignores Range', async () => {
    server.options.supportsRange = false;
    await mkdir(join(repositoryFolder, 'blobs'), { recursive: true });
    await writeFile(join(repositoryFolder, 'blobs', `${weightsEtag}.incomplete`), weights.subarray(0, 1000));
    expect(await source().readBytes('onnx/weights.bin')).toEqual(weights);
    const get = server.requests.find((entry) => entry.method === 'GET')!;
    expect(get.range).toBe('bytes=1000-');
    expect(get.sent).toBe(weights.length);
    expect(readFileSync(join(repositoryFolder, 'blobs', weightsEtag))).toEqual(Buffer.from(weights));
  });

  it('a truncated download is DOWNLOAD_FAILED and leaves no cache entry; the next read resumes', async () => {
    server.options.truncateOnce = { 'onnx/weights.bin': 100_000 };
    const error = await catchError(() => source().readBytes('onnx/weights.bin'));
    expect(error.code).toBe('DOWNLOAD_FAILED');
    expect(error.file).toBe(`${server.url}/${repo}/resolve/main/onnx/weights.bin`);
    expect(error.message).toContain(`${server.url}/${repo}/resolve/main/onnx/weights.bin`);
    expect(error.message).toContain(`of ${weights.length} bytes`);
    expect(existsSync(join(repositoryFolder, 'blobs', weightsEtag))).toBe(false);
    expect(existsSync(join(repositoryFolder, 'snapshots', commit, 'onnx', 'weights.bin'))).toBe(false);
    const partial = readFileSync(join(repositoryFolder, 'blobs', `${weightsEtag}.incomplete`));
    expect(partial.length).toBeLessThanOrEqual(100_000);

    expect(await source().readBytes('onnx/weights.bin')).toEqual(weights);
    const gets = server.requests.filter((entry) => entry.method === 'GET');
    expect(gets.at(-1)!.range).toBe(partial.length > 0 ? `bytes=${partial.length}-` : undefined);
  });

  it('a 404 is FILE_NOT_FOUND naming the URL, remembered without another request', async () => {
    const hub = source();
    await hub.readText('config.json');
    const error = await catchError(() => hub.readText('tokenizer.json'));
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.field).toBe('tokenizer.json');
    expect(error.message).toContain(`${server.url}/${repo}/resolve/main/tokenizer.json`);
    const before = server.requests.length;
    expect(await source().exists('tokenizer.json')).toBe(false);
    expect((await catchError(() => source().readText('tokenizer.json'))).code).toBe('FILE_NOT_FOUND');
    expect(server.requests.length).toBe(before);
  });

  it('follows the hub to its CDN for large files and names the blob by X-Linked-Etag', async () => {
    const expected = weights.slice(0, 123_457);
    const hub = source();
    const localPath = await hub.localPath('model.safetensors');
    expect(localPath).toBe(join(repositoryFolder, 'snapshots', commit, 'model.safetensors'));
    expect(readFileSync(localPath!)).toEqual(Buffer.from(expected));
    expect(existsSync(join(repositoryFolder, 'blobs', lfsEtag(expected)))).toBe(true);
    expect(server.requests.some((entry) => entry.path.startsWith('/cdn/'))).toBe(true);
  });

  it('refuses a download whose size differs from the size the hub announced, leaving no cache entry', async () => {
    server.options.linkedSizeOverride = { 'model.safetensors': 200_000 };
    const error = await catchError(() => source().readBytes('model.safetensors'));
    expect([error.code, error.field]).toEqual(['DOWNLOAD_FAILED', 'size']);
    expect(error.message).toContain(`${server.url}/${repo}/resolve/main/model.safetensors`);
    expect(readdirSync(join(repositoryFolder, 'blobs'))).toEqual([]);
  });

  it('downloads a file once when it is asked for concurrently', async () => {
    const hub = source();
    const [a, b] = await Promise.all([hub.readBytes('onnx/weights.bin'), hub.readBytes('onnx/weights.bin')]);
    expect(a).toEqual(weights);
    expect(b).toEqual(weights);
    expect(server.requests.filter((entry) => entry.method === 'GET')).toHaveLength(1);
  });

  it('offline: serves the cache without requests, and a file the cache lacks is FILE_NOT_FOUND', async () => {
    await source().readText('config.json');
    const before = server.requests.length;
    const offline = source({ offline: true });
    expect(JSON.parse(await offline.readText('config.json'))).toEqual(JSON.parse(tinyFiles['config.json']!.toString()));
    const error = await catchError(() => offline.readText('generation_config.json'));
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.message).toContain('HF_HUB_OFFLINE');
    expect(server.requests.length).toBe(before);
    expect(new CachedHubSource(repo, { env: { HF_HUB_OFFLINE: '1', HF_HUB_CACHE: cache } }).offline).toBe(true);
  });

  it('checkForUpdates asks the hub (HEAD) but reuses the cached blob', async () => {
    await source().readText('config.json');
    const before = server.requests.length;
    await source({ checkForUpdates: true }).readText('config.json');
    const after = server.requests.slice(before);
    expect(after.map((entry) => entry.method)).toEqual(['HEAD']);
  });

  it('a commit revision needs no refs file', async () => {
    await new CachedHubSource(`${repo}@${commit}`, { env: { HF_ENDPOINT: server.url, HF_HUB_CACHE: cache } }).readText(
      'config.json',
    );
    expect(existsSync(join(repositoryFolder, 'refs'))).toBe(false);
    expect(existsSync(join(repositoryFolder, 'snapshots', commit, 'config.json'))).toBe(true);
  });

  it('a server without hub headers is refused with a clear error', async () => {
    const plain = new CachedHubSource('static/x', { env: { HF_ENDPOINT: server.url, HF_HUB_CACHE: cache } });
    // /static/x/resolve/main/config.json is a 404 on the plain route: the hub-only headers are what is checked here
    server.options.files['x/resolve/main/config.json'] = '{}';
    const error = await catchError(() => plain.readText('config.json'));
    expect(error.code).toBe('DOWNLOAD_FAILED');
    expect(error.field).toBe('x-repo-commit');
    expect(error.message).toContain('X-Repo-Commit');
  });
});

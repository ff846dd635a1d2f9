import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProgressEvent } from '@video-llava/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { catchError } from '../test/catch-error.js';
import { v4Fixture } from '../test/fixture-paths.js';
import { type HubTestServer, startHubTestServer } from '@video-llava/test-utils';
import { HttpSource } from './http-source.js';
import { loadPretrainedConfig } from './load.js';

const v4Files = Object.fromEntries(
  ['config.json', 'generation_config.json', 'preprocessor_config.json'].map((name) => [
    name,
    readFileSync(join(v4Fixture, name)),
  ]),
);
const binary = new Uint8Array(300_000).map((_, index) => (index * 7919) % 251);

describe('HttpSource', () => {
  let server: HubTestServer;
  beforeEach(async () => {
    server = await startHubTestServer({
      repo: 'org/model',
      commit: 'c'.repeat(40),
      files: { ...v4Files, 'onnx/weights.bin': binary },
    });
  });
  afterEach(async () => {
    await server.close();
  });

  it('loads a checkpoint from an HTTP base URL (absent optional files are one 404 each)', async () => {
    const source = new HttpSource(`${server.url}/static`);
    const config = await loadPretrainedConfig(source);
    expect(config.processor.layout).toBe('v4');
    expect([config.derived.tokensPerImage, config.derived.tokensPerFrame, config.derived.tokensPerVideo]).toEqual([
      256, 257, 2056,
    ]);
    expect(config.source).toBe(`${server.url}/static`);
    expect(server.requests.every((entry) => entry.method === 'GET')).toBe(true);
  });

  it('reads bytes with progress (bytes done and total) and answers exists()', async () => {
    const source = new HttpSource(`${server.url}/static/`);
    const events: ProgressEvent[] = [];
    const bytes = await source.readBytes('onnx/weights.bin', { onProgress: (event) => events.push(event) });
    expect(bytes).toEqual(binary);
    expect(events[0]).toMatchObject({
      stage: 'download',
      file: 'onnx/weights.bin',
      done: 0,
      total: binary.length,
      unit: 'bytes',
    });
    expect(events.at(-1)).toMatchObject({ done: binary.length, total: binary.length });
    expect(events.map((event) => event.done)).toEqual([...events.map((event) => event.done)].sort((a, b) => a - b));
    expect(await source.exists('config.json')).toBe(true);
    expect(await source.exists('processor_config.json')).toBe(false);
  });

  it('a 404 is FILE_NOT_FOUND naming the URL', async () => {
    const error = await catchError(() => new HttpSource(`${server.url}/static`).readText('tokenizer.json'));
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.file).toBe(`${server.url}/static/tokenizer.json`);
    expect(error.field).toBe('tokenizer.json');
    expect(error.message).toContain(`${server.url}/static/tokenizer.json`);
    expect(error.message).toContain('404');
  });

  it('a missing config.json stops the load with FILE_NOT_FOUND naming the URL', async () => {
    delete server.options.files['config.json'];
    const error = await catchError(() => loadPretrainedConfig(new HttpSource(`${server.url}/static`)));
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.message).toContain(`${server.url}/static/config.json`);
  });

  it('another status is DOWNLOAD_FAILED naming the URL and the status', async () => {
    server.options.failWithStatus = 503;
    const error = await catchError(() => new HttpSource(`${server.url}/static`).readText('config.json'));
    expect(error.code).toBe('DOWNLOAD_FAILED');
    expect(error.file).toBe(`${server.url}/static/config.json`);
    expect(error.field).toBe('status');
    expect(error.message).toContain(`${server.url}/static/config.json`);
    expect(error.message).toContain('HTTP 503');
  });

  it('a truncated body (the server closes early) is DOWNLOAD_FAILED naming the URL and the byte counts', async () => {
    server.options.truncateOnce = { 'onnx/weights.bin': 1000 };
    const error = await catchError(() => new HttpSource(`${server.url}/static`).readBytes('onnx/weights.bin'));
    expect(error.code).toBe('DOWNLOAD_FAILED');
    expect(error.file).toBe(`${server.url}/static/onnx/weights.bin`);
    expect(error.message).toContain(`${server.url}/static/onnx/weights.bin`);
    expect(error.message).toContain(String(binary.length));
    expect(error.message).toContain('HTTP 200');
  });

  it('a body that ends cleanly but short of its Content-Length is DOWNLOAD_FAILED (injected fetch)', async () => {
    const fetch = async () => new Response('{"a"', { status: 200, headers: { 'content-length': '10' } });
    const error = await catchError(() =>
      new HttpSource('https://models.example/tiny', { fetch }).readText('config.json'),
    );
    expect([error.code, error.file, error.field, error.expected, error.actual]).toEqual([
      'DOWNLOAD_FAILED',
      'https://models.example/tiny/config.json',
      'content-length',
      10,
      4,
    ]);
    expect(error.message).toContain('https://models.example/tiny/config.json');
    expect(error.message).toContain('HTTP 200');
  });

  it('a network failure is DOWNLOAD_FAILED naming the URL', async () => {
    const url = server.url;
    await server.close();
    const error = await catchError(() => new HttpSource(url).readText('config.json'));
    expect([error.code, error.file, error.field]).toEqual(['DOWNLOAD_FAILED', `${url}/config.json`, 'network']);
    server = await startHubTestServer({ repo: 'org/model', commit: 'c'.repeat(40), files: {} });
  });

  it('an aborted signal stops the transfer with ABORTED', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await catchError(() =>
      new HttpSource(`${server.url}/static`).readBytes('onnx/weights.bin', { signal: controller.signal }),
    );
    expect(error.code).toBe('ABORTED');
    const midway = new AbortController();
    const error2 = await catchError(() =>
      new HttpSource(`${server.url}/static`).readBytes('onnx/weights.bin', {
        signal: midway.signal,
        onProgress: (event) => {
          if (event.done > 0) midway.abort();
        },
      }),
    );
    expect(error2.code).toBe('ABORTED');
  });

  it('refuses paths that leave the base URL and base URLs that are not http(s)', async () => {
    const path = await catchError(() => new HttpSource(server.url).readBytes('../other/config.json'));
    expect([path.code, path.field]).toEqual(['INVALID_ARGUMENT', 'path']);
    const base = await catchError(() => new HttpSource('file:///etc/'));
    expect([base.code, base.field]).toEqual(['INVALID_ARGUMENT', 'baseUrl']);
  });
});

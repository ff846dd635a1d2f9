import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StaticServer, mimeTypeOf, parseRange, startStaticServer } from './server.js';

describe('parseRange', () => {
  it('reads bytes=a-b, bytes=a- and bytes=-n against the size', () => {
    expect(parseRange(undefined, 10)).toBeUndefined();
    expect(parseRange('bytes=2-5', 10)).toEqual({ start: 2, end: 5 });
    expect(parseRange('bytes=2-', 10)).toEqual({ start: 2, end: 9 });
    expect(parseRange('bytes=4-100', 10)).toEqual({ start: 4, end: 9 });
    expect(parseRange('bytes=-3', 10)).toEqual({ start: 7, end: 9 });
    expect(parseRange('bytes=-30', 10)).toEqual({ start: 0, end: 9 });
  });

  it('says unsatisfiable past the end, and serves everything for what it does not read', () => {
    expect(parseRange('bytes=10-', 10)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 10)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-1,4-5', 10)).toBeUndefined();
    expect(parseRange('items=0-1', 10)).toBeUndefined();
    expect(parseRange('bytes=5-2', 10)).toBeUndefined();
  });
});

describe('mimeTypeOf', () => {
  it('types what browsers are strict about', () => {
    expect(mimeTypeOf('/ort/ort-wasm-simd-threaded.wasm')).toBe('application/wasm');
    expect(mimeTypeOf('/ort/ort.min.mjs')).toBe('text/javascript; charset=utf-8');
    expect(mimeTypeOf('/page.js')).toBe('text/javascript; charset=utf-8');
    expect(mimeTypeOf('/assets/index-1a2b.css')).toBe('text/css; charset=utf-8');
    expect(mimeTypeOf('/')).toBe('application/octet-stream');
    expect(mimeTypeOf('/model/decoder.onnx')).toBe('application/octet-stream');
  });
});

describe('startStaticServer', () => {
  let folder: string;
  let server: StaticServer;
  let plain: StaticServer;
  const bytes = Uint8Array.from({ length: 100 }, (_, index) => index);

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'video-llava-test-utils-server-'));
    await writeFile(join(folder, 'data.bin'), bytes);
    await writeFile(join(folder, 'module.wasm'), bytes.subarray(0, 8));
    await writeFile(join(tmpdir(), 'video-llava-test-utils-outside.txt'), 'outside');
    server = await startStaticServer({
      routes: {
        '/': { body: '<!doctype html>', type: 'text/html; charset=utf-8' },
        '/page.js': 'export {};',
        '/bytes.bin': bytes,
      },
      folders: { '/files/': folder },
      resolve: (path) => (path === '/custom' ? { body: 'custom', type: 'text/plain' } : undefined),
      crossOriginIsolated: (path) => path !== '/',
      headers: { 'Cache-Control': 'no-store' },
    });
    plain = await startStaticServer({ routes: { '/a.txt': 'abcdef' }, ranges: false });
  });

  afterAll(async () => {
    await server?.close();
    await plain?.close();
    await rm(folder, { recursive: true, force: true });
    await rm(join(tmpdir(), 'video-llava-test-utils-outside.txt'), { force: true });
  });

  it('serves routes and folders with their content types, on 127.0.0.1', async () => {
    expect(server.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(server.origin);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toBe('<!doctype html>');
    const script = await fetch(server.url('/page.js'));
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const wasm = await fetch(server.url('files/module.wasm'));
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect(new Uint8Array(await wasm.arrayBuffer())).toEqual(bytes.subarray(0, 8));
    const file = await fetch(server.url('/files/data.bin'));
    expect(file.headers.get('content-length')).toBe('100');
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(bytes);
    const custom = await fetch(server.url('/custom'));
    expect([custom.headers.get('content-type'), await custom.text()]).toEqual(['text/plain', 'custom']);
    expect(server.requests.get('/files/data.bin')).toBe(1);
  });

  it('answers 404 for unknown paths, folders and paths that leave a served folder', async () => {
    for (const path of [
      '/nothing',
      '/files/',
      '/files/missing.bin',
      '/files/..%2Fvideo-llava-test-utils-outside.txt',
      '/files/%2E%2E/video-llava-test-utils-outside.txt',
    ]) {
      const response = await fetch(new URL(path, server.origin));
      expect(response.status, path).toBe(404);
      await response.arrayBuffer();
    }
    expect((await fetch(server.url('/page.js'), { method: 'POST', body: 'x' })).status).toBe(405);
  });

  it('adds cross-origin isolation headers where asked, and the extra headers everywhere', async () => {
    const page = await fetch(server.origin);
    expect(page.headers.get('cross-origin-opener-policy')).toBeNull();
    expect(page.headers.get('cache-control')).toBe('no-store');
    const script = await fetch(server.url('/page.js'));
    expect(script.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(script.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    const missing = await fetch(server.url('/nothing'));
    expect(missing.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    const other = await fetch(plain.url('/a.txt'));
    expect(other.headers.get('cross-origin-opener-policy')).toBeNull();
  });

  it('answers byte ranges of files and bodies with 206, and 416 past the end', async () => {
    const part = await fetch(server.url('/files/data.bin'), { headers: { Range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('accept-ranges')).toBe('bytes');
    expect(part.headers.get('content-range')).toBe('bytes 10-19/100');
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(bytes.subarray(10, 20));
    const tail = await fetch(server.url('/bytes.bin'), { headers: { Range: 'bytes=-5' } });
    expect(tail.status).toBe(206);
    expect(tail.headers.get('content-range')).toBe('bytes 95-99/100');
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(bytes.subarray(95));
    const past = await fetch(server.url('/files/data.bin'), { headers: { Range: 'bytes=100-' } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe('bytes */100');
    await past.arrayBuffer();
    const head = await fetch(server.url('/files/data.bin'), { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length')]).toEqual([200, '100']);
  });

  it('ignores Range and says Accept-Ranges: none when ranges are off', async () => {
    const whole = await fetch(plain.url('/a.txt'), { headers: { Range: 'bytes=1-2' } });
    expect(whole.status).toBe(200);
    expect(whole.headers.get('accept-ranges')).toBe('none');
    expect(await whole.text()).toBe('abcdef');
  });

  it('closes with connections still open', async () => {
    const server = await startStaticServer({ routes: { '/x': 'x' } });
    await (await fetch(server.url('/x'))).text();
    await server.close();
    await expect(fetch(server.url('/x'))).rejects.toThrow();
  });
});

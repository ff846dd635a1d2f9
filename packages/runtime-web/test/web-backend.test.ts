import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { type ProgressEvent, Tensor } from '@video-llava/core';
import type { RuntimeTensor } from '@video-llava/runtime';
import {
  buildConformanceModels,
  expectMatMulOutput,
  expectRejection,
  releaseSessionsAfterEach,
} from '@video-llava/runtime/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebBackend } from '../src/index.js';
import { besidePath } from '../src/local-files.js';
import { temporaryFolders } from '@video-llava/test-utils';

const models = buildConformanceModels();
const folders = temporaryFolders('video-llava-runtime-web-');
const keep = releaseSessionsAfterEach();
const served = new Map<string, Uint8Array>([
  ['/m/external.onnx', models.externalData],
  [`/m/${models.externalDataFileName}`, models.externalDataFile],
  ['/m/add.onnx', models.add],
]);
const requests: string[] = [];
let server: Server;
let origin: string;
/** Requests to this path wait until the test lets them go (to abort a download in flight). */
let stalled: { path: string; release: () => void } | undefined;

const x = (): Tensor<'float32'> => new Tensor('float32', Float32Array.from([1, 2, 3, 4]), [1, 4]);
/** Checks `y = x @ w + bias` of the conformance models for the `x` above. */
const expectMatMul = (y: RuntimeTensor | undefined): void => expectMatMulOutput(y, x().data, models.weights);

beforeAll(async () => {
  server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    requests.push(path);
    if (path === '/error') {
      response.writeHead(503, 'Busy');
      response.end();
      return;
    }
    const bytes = served.get(path);
    if (bytes === undefined) {
      response.writeHead(404);
      response.end();
      return;
    }
    response.writeHead(200, { 'Content-Length': String(bytes.length) });
    if (stalled?.path === path) {
      // Half now, the rest when the test says so.
      response.write(bytes.subarray(0, 16));
      stalled.release = () => response.end(bytes.subarray(16));
      return;
    }
    response.end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await folders.removeAll();
});

describe('createWebBackend in Node.js', () => {
  const backend = createWebBackend({ threads: 1 });

  it('describes what it can do here: WebAssembly, paths and URLs, no Cache API, no WebGPU by default', () => {
    expect(backend.name).toBe('onnxruntime-web');
    expect(backend.capabilities).toMatchObject({
      filePaths: true,
      urls: true,
      deviceOutputs: true,
      memoryMapping: false,
      cache: false,
    });
    expect(backend.capabilities.defaultExecutionProviders).toEqual(['wasm']);
    expect(
      createWebBackend({ defaultExecutionProviders: ['webgpu', 'wasm'] }).capabilities.defaultExecutionProviders,
    ).toEqual(['webgpu', 'wasm']);
  });

  it('loads a model and the external data beside it from http URLs, with progress for each file', async () => {
    const events: ProgressEvent[] = [];
    requests.length = 0;
    const session = await keep(
      backend.createSession(new URL('/m/external.onnx', origin), { onProgress: (event) => events.push(event) }),
    );
    expect(requests).toEqual(['/m/external.onnx', `/m/${models.externalDataFileName}`]);
    expectMatMul((await session.run({ x: x() })).y);
    for (const [path, bytes] of [
      ['/m/external.onnx', models.externalData],
      [`/m/${models.externalDataFileName}`, models.externalDataFile],
    ] as const) {
      const file = `${origin}${path}`;
      const last = events.filter((event) => event.file === file).pop();
      expect(last).toEqual({ stage: 'download', file, done: bytes.length, total: bytes.length, unit: 'bytes' });
    }
  });

  it('uses the fetch it is given', async () => {
    const fetched: string[] = [];
    const custom = createWebBackend({
      fetch: (input, init) => {
        fetched.push(String(input));
        return fetch(input, init);
      },
    });
    await keep(custom.createSession(`${origin}/m/add.onnx`));
    expect(fetched).toEqual([`${origin}/m/add.onnx`]);
  });

  it('FILE_NOT_FOUND for a 404 and DOWNLOAD_FAILED for another failed status, naming the URL', async () => {
    const missing = await expectRejection(backend.createSession(`${origin}/m/missing.onnx`));
    expect(missing.code).toBe('FILE_NOT_FOUND');
    expect(missing.file).toBe(`${origin}/m/missing.onnx`);
    expect(missing.actual).toBe(404);
    const failed = await expectRejection(backend.createSession(`${origin}/error`));
    expect(failed.code).toBe('DOWNLOAD_FAILED');
    expect(failed.actual).toBe(503);
    expect(failed.message).toContain('HTTP 503 Busy');
    const unreachable = await expectRejection(backend.createSession('http://127.0.0.1:9/model.onnx'));
    expect(unreachable.code).toBe('DOWNLOAD_FAILED');
  });

  it('ABORTED for a download aborted half way', async () => {
    const controller = new AbortController();
    let resolveStarted!: () => void;
    const started = new Promise<void>((resolve) => {
      resolveStarted = resolve;
    });
    stalled = { path: '/m/add.onnx', release: () => undefined };
    const pending = backend.createSession(`${origin}/m/add.onnx`, {
      signal: controller.signal,
      onProgress: () => resolveStarted(),
    });
    await started;
    controller.abort(new Error('the user stopped'));
    const error = await expectRejection(pending);
    stalled.release();
    stalled = undefined;
    expect(error.code).toBe('ABORTED');
    expect(error.file).toBe(`${origin}/m/add.onnx`);
  });

  it('reads file: URLs and paths from disk in Node.js', async () => {
    const locate = await folders.place({
      'external.onnx': models.externalData,
      [models.externalDataFileName]: models.externalDataFile,
    });
    const path = locate('external.onnx') as string;
    expectMatMul((await (await keep(backend.createSession(pathToFileURL(path)))).run({ x: x() })).y);
    expectMatMul((await (await keep(backend.createSession(path))).run({ x: x() })).y);
  });

  it('INVALID_ARGUMENT for model bytes whose external data is not given, and for a model of another type', async () => {
    const error = await expectRejection(backend.createSession(models.externalData));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.field).toBe('options.externalData');
    expect(error.message).toContain(models.externalDataFileName);
    expect((await expectRejection(backend.createSession({} as never))).field).toBe('model');
    expect((await expectRejection(backend.createSession(models.add, { externalData: [{ path: '' }] }))).field).toBe(
      'options.externalData[0]',
    );
  });

  it('UNSUPPORTED when onnxruntime-web cannot be loaded, and tries again on the next session', async () => {
    let attempts = 0;
    const broken = createWebBackend({
      loadOnnxruntime: async () => {
        attempts++;
        throw new Error('no such bundle');
      },
    });
    const error = await expectRejection(broken.createSession(models.add));
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toContain('no such bundle');
    await expectRejection(broken.createSession(models.add));
    expect(attempts).toBe(2);
    const empty = createWebBackend({ loadOnnxruntime: async () => ({}) as never });
    expect((await expectRejection(empty.createSession(models.add))).message).toContain('no InferenceSession.create');
  });

  it('UNSUPPORTED, naming the reason, when WebGPU is asked for where there is none', async () => {
    const error = await expectRejection(backend.createSession(models.add, { executionProviders: ['webgpu'] }));
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toMatch(/^None of the execution providers asked for is available here: webgpu: /);
    const asked = await expectRejection(backend.executionProviderFor!({ executionProviders: ['webgpu'] }));
    expect(asked.code).toBe('UNSUPPORTED');
    expect(await backend.executionProviderFor!({ executionProviders: ['webgpu', 'wasm'] })).toBe('wasm');
  });
});

describe('besidePath', () => {
  it('resolves a name against the folder of a path, with either separator', () => {
    expect(besidePath('/models/onnx/decoder.onnx', 'decoder.onnx_data')).toBe('/models/onnx/decoder.onnx_data');
    expect(besidePath('C:\\models\\decoder.onnx', 'data.bin')).toBe('C:\\models\\data.bin');
    expect(besidePath('decoder.onnx', 'data.bin')).toBe('data.bin');
  });
});

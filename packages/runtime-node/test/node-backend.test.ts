import { readFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
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
import { createNodeBackend, cudaProviderLibrary, isCudaProviderInstalled } from '../src/index.js';
import { temporaryFolders } from '@video-llava/test-utils';

const models = buildConformanceModels();
const folders = temporaryFolders('video-llava-runtime-node-');
const session = releaseSessionsAfterEach();
const backend = createNodeBackend();
let folder: string;
let server: Server;
let origin: string;
const requests: string[] = [];

const x = (): Tensor<'float32'> => new Tensor('float32', Float32Array.from([1, 2, 3, 4]), [1, 4]);
/** Checks `y = x @ w + bias` of the conformance models for the `x` above. */
const expectMatMul = (y: RuntimeTensor | undefined): void => expectMatMulOutput(y, x().data, models.weights);

beforeAll(async () => {
  const locate = await folders.place({
    'external.onnx': models.externalData,
    [models.externalDataFileName]: models.externalDataFile,
    'add.onnx': models.add,
  });
  folder = join(locate('add.onnx') as string, '..');
  server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    requests.push(path);
    readFile(join(folder, decodeURIComponent(path.slice(1)))).then(
      (bytes) => {
        response.writeHead(200, { 'Content-Length': String(bytes.length) });
        response.end(bytes);
      },
      () => {
        response.writeHead(404);
        response.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await folders.removeAll();
});

describe('createNodeBackend', () => {
  it('describes what onnxruntime-node can do', () => {
    expect(backend.name).toBe('onnxruntime-node');
    expect(backend.capabilities).toMatchObject({ filePaths: true, urls: true, memoryMapping: true, cache: false });
    expect(backend.capabilities.executionProviders).toEqual(expect.arrayContaining(['cpu', 'cuda', 'webgpu']));
    const expectedDefaults = process.platform === 'linux' && process.arch === 'x64' ? ['cuda', 'cpu'] : ['cpu'];
    expect(backend.capabilities.defaultExecutionProviders).toEqual(expectedDefaults);
    expect(createNodeBackend({ defaultExecutionProviders: ['cpu'] }).capabilities.defaultExecutionProviders).toEqual([
      'cpu',
    ]);
  });

  it('falls back from CUDA to the CPU by default where CUDA is not installed, and says why when only CUDA is asked for', async () => {
    const fallback = await session(backend.createSession(join(folder, 'add.onnx')));
    if (isCudaProviderInstalled()) {
      expect(['cuda', 'cpu']).toContain(fallback.executionProvider);
      return;
    }
    expect(fallback.executionProvider).toBe('cpu');
    const error = await expectRejection(
      backend.createSession(join(folder, 'add.onnx'), { executionProviders: ['cuda'] }),
    );
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.field).toBe('options.executionProviders');
    expect(error.actual).toEqual(['cuda']);
    expect(error.message).toContain('CUDA provider libraries are not installed');
  });

  it('executionProviderFor names the provider a session would run on, without a model', async () => {
    const cuda = isCudaProviderInstalled();
    expect(await backend.executionProviderFor!()).toBe(cuda ? 'cuda' : 'cpu');
    expect(await backend.executionProviderFor!({ executionProviders: ['cpu'] })).toBe('cpu');
    if (cuda) return;
    const error = await expectRejection(backend.executionProviderFor!({ executionProviders: ['cuda'] }));
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.field).toBe('options.executionProviders');
    expect(
      (await expectRejection(backend.executionProviderFor!({ executionProviders: ['metal' as never] }))).code,
    ).toBe('INVALID_ARGUMENT');
  });

  it('knows where the CUDA provider library would be', () => {
    const library = cudaProviderLibrary();
    if (process.platform === 'linux' && process.arch === 'x64')
      expect(library).toMatch(
        /onnxruntime-node[\\/]bin[\\/]napi-v6[\\/]linux[\\/]x64[\\/]libonnxruntime_providers_cuda\.so$/,
      );
    else if (process.platform !== 'win32') expect(library).toBeUndefined();
  });

  it('loads a model and its external data from an http URL, with progress', async () => {
    const events: ProgressEvent[] = [];
    requests.length = 0;
    const created = await session(
      backend.createSession(`${origin}external.onnx`, {
        executionProviders: ['cpu'],
        onProgress: (event) => events.push(event),
      }),
    );
    expect(requests).toEqual(['/external.onnx', `/${models.externalDataFileName}`]);
    expectMatMul((await created.run({ x: x() })).y);
    const last = (file: string) => events.filter((event) => event.file === file).pop();
    expect(last(`${origin}external.onnx`)).toEqual({
      stage: 'download',
      file: `${origin}external.onnx`,
      done: models.externalData.length,
      total: models.externalData.length,
      unit: 'bytes',
    });
    expect(last(`${origin}${models.externalDataFileName}`)?.done).toBe(models.externalDataFile.length);
  });

  it('FILE_NOT_FOUND for a URL that answers 404, naming it', async () => {
    const error = await expectRejection(
      backend.createSession(`${origin}missing.onnx`, { executionProviders: ['cpu'] }),
    );
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.file).toBe(`${origin}missing.onnx`);
    expect(error.actual).toBe(404);
  });

  it('loads from a file: URL as from a path', async () => {
    const created = await session(
      backend.createSession(pathToFileURL(join(folder, 'external.onnx')), { executionProviders: ['cpu'] }),
    );
    expectMatMul((await created.run({ x: x() })).y);
  });

  it('reads external data kept elsewhere, given by path', async () => {
    const elsewhere = await folders.place({ 'data-copy.bin': models.externalDataFile });
    const only = await folders.place({ 'external.onnx': models.externalData });
    const created = await session(
      backend.createSession(only('external.onnx'), {
        executionProviders: ['cpu'],
        externalData: [{ path: models.externalDataFileName, data: elsewhere('data-copy.bin') as string }],
      }),
    );
    expectMatMul((await created.run({ x: x() })).y);
  });

  it('INVALID_ARGUMENT for model bytes whose external data is not given, naming the file', async () => {
    const error = await expectRejection(backend.createSession(models.externalData, { executionProviders: ['cpu'] }));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.field).toBe('options.externalData');
    expect(error.message).toContain(models.externalDataFileName);
  });

  it('INVALID_ARGUMENT for an external data entry without a name, and for a model that is none of path, URL, bytes', async () => {
    expect(
      (await expectRejection(backend.createSession(join(folder, 'add.onnx'), { externalData: [{ path: '' }] }))).field,
    ).toBe('options.externalData[0]');
    expect((await expectRejection(backend.createSession(42 as never))).field).toBe('model');
    expect((await expectRejection(backend.createSession('data:application/octet-stream;base64,AAAA'))).code).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('FILE_NOT_FOUND for a folder given as the model', async () => {
    const error = await expectRejection(backend.createSession(folder, { executionProviders: ['cpu'] }));
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.actual).toBe('a directory');
  });
});

import { readFile, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ProgressEvent, Tensor, type VideoLlavaWarning } from '@video-llava/core';
import type { RuntimeTensor } from '@video-llava/runtime';
import {
  buildConformanceModels,
  buildQ4MatMulChain,
  expectMatMulOutput,
  expectRejection,
  releaseSessionsAfterEach,
} from '@video-llava/runtime/testing';
import { temporaryFolders } from '@video-llava/test-utils';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { type NodeBackendOptions, createNodeBackend } from '../src/index.js';

// The conformance model `y = x @ w + bias` keeps `w` in an external data file: onnxruntime prepacks it for its CPU
// MatMul kernel, so an entry holds an optimized graph and prepacked weights as a 7B decoder's does, only smaller.
const models = buildConformanceModels();
const folders = temporaryFolders('video-llava-prepacked-cache-');
const session = releaseSessionsAfterEach();
const x = (): Tensor<'float32'> => new Tensor('float32', Float32Array.from([1, 2, 3, 4]), [1, 4]);
const expectMatMul = (y: RuntimeTensor | undefined): void => expectMatMulOutput(y, x().data, models.weights);

let modelPath: string;
let cache: string;
let events: ProgressEvent[];
let warnings: VideoLlavaWarning[];

beforeEach(async () => {
  const locate = await folders.place({
    'external.onnx': models.externalData,
    [models.externalDataFileName]: models.externalDataFile,
  });
  modelPath = locate('external.onnx');
  cache = join(await folders.folder(), 'prepacked');
  events = [];
  warnings = [];
});

afterAll(() => folders.removeAll());

const backendWith = (options: NodeBackendOptions) =>
  createNodeBackend({
    defaultExecutionProviders: ['cpu'],
    onWarning: (warning) => warnings.push(warning),
    ...options,
  });

async function load(backend = backendWith({ prepackedCache: cache })) {
  return session(backend.createSession(modelPath, { onProgress: (event) => events.push(event) }));
}

const prepackEvents = () => events.filter((event) => event.stage === 'prepack');

describe('prepackedCache', () => {
  it('writes an entry on the first load and reads it on the next, with the same outputs', async () => {
    expectMatMul((await (await load()).run({ x: x() })).y);
    expect(prepackEvents()).toEqual([
      { stage: 'prepack', file: modelPath, done: 0, total: 1, unit: 'items' },
      { stage: 'prepack', file: modelPath, done: 1, total: 1, unit: 'items' },
    ]);
    const entries = await readdir(cache);
    expect(entries).toEqual([expect.stringMatching(/^external-[0-9a-f]{16}$/)]);
    const entry = join(cache, entries[0]!);
    // (the conformance weights are under the size that goes to model.onnx.data: they stay in model.onnx)
    expect(await readdir(entry)).toEqual(expect.arrayContaining(['entry.json', 'model.onnx']));
    const manifest = JSON.parse(await readFile(join(entry, 'entry.json'), 'utf8'));
    expect(manifest.sources.map((source: { path: string }) => source.path)).toEqual([
      expect.stringMatching(/external\.onnx$/),
      expect.stringMatching(new RegExp(`${models.externalDataFileName.replace('.', '\\.')}$`)),
    ]);

    events = [];
    expectMatMul((await (await load()).run({ x: x() })).y);
    expect(prepackEvents()).toEqual([]);
    expect(await readdir(cache)).toEqual(entries);
    expect(warnings).toEqual([]);
  });

  // Chains of three 4-bit MatMulNBits (blocks of 32, zero points, int8 compute), as the converter writes its q4
  // weights: onnxruntime repacks them for its int8 kernels, which is what an entry keeps. 1536 x 1536 weights are
  // over MINIMUM_EXTERNAL_BYTES (their prepacked blobs go to model.onnx.data); 256 x 256 ones stay in the graph.
  it.each([
    [1536, true],
    [256, false],
  ])(
    'gives the same bits from a chain of q4 MatMulNBits %i wide as the model without the cache',
    async (width, external) => {
      const chain = buildQ4MatMulChain(width, 3, width);
      const q4 = join(modelPath, '..', 'q4.onnx');
      await writeFile(q4, chain.model);
      const feeds = { a: new Tensor('float32', chain.input, [chain.rows, width]) };
      const run = async (backend: ReturnType<typeof createNodeBackend>) => {
        const loaded = await session(backend.createSession(q4, { onProgress: (event) => events.push(event) }));
        return Array.from(((await loaded.run(feeds)).y as Tensor<'float32'>).data);
      };
      const plain = await run(createNodeBackend({ defaultExecutionProviders: ['cpu'] }));
      expect(plain.every(Number.isFinite)).toBe(true);
      expect(new Set(plain).size).toBeGreaterThan(width);
      expect(await run(backendWith({ prepackedCache: cache }))).toEqual(plain);
      expect(prepackEvents().map((event) => event.done)).toEqual([0, 1]);
      events = [];
      expect(await run(backendWith({ prepackedCache: cache }))).toEqual(plain);
      expect(prepackEvents()).toEqual([]);
      const [entry] = await readdir(cache);
      const files = await readdir(join(cache, entry!));
      if (!external) {
        expect(files).not.toContain('model.onnx.data');
        return;
      }
      // the prepacked blobs beside the original 4-bit weights: more bytes than those alone
      const { size } = await stat(join(cache, entry!, 'model.onnx.data'));
      expect(size).toBeGreaterThan(3 * width * (width / 32) * 16 * 1.5);
    },
  );

  it('reads the entry, not the model: a damaged entry is reported, removed and written again', async () => {
    await load();
    const [name] = await readdir(cache);
    await writeFile(join(cache, name!, 'model.onnx'), 'not an onnx model');
    events = [];
    expectMatMul((await (await load()).run({ x: x() })).y);
    expect(warnings).toEqual([expect.objectContaining({ code: 'PREPACK_CACHE_INVALID', file: join(cache, name!) })]);
    expect(prepackEvents().map((event) => event.done)).toEqual([0, 1]);
    expect(await readdir(join(cache, name!))).toEqual(expect.arrayContaining(['entry.json', 'model.onnx']));
  });

  it('keys entries by the model files: a changed external data file gets a new entry, which replaces the old one', async () => {
    await load();
    const [before] = await readdir(cache);
    const later = new Date(Date.now() + 60_000);
    await utimes(join(modelPath, '..', models.externalDataFileName), later, later);
    events = [];
    expectMatMul((await (await load()).run({ x: x() })).y);
    expect(prepackEvents().map((event) => event.done)).toEqual([0, 1]);
    const after = await readdir(cache);
    expect(after).toEqual([expect.stringMatching(/^external-[0-9a-f]{16}$/)]);
    expect(after[0]).not.toBe(before);
  });

  it('with true, keeps each entry in a .prepacked folder beside its model', async () => {
    expectMatMul((await (await load(backendWith({ prepackedCache: true }))).run({ x: x() })).y);
    expect(await readdir(join(modelPath, '..', '.prepacked'))).toEqual([expect.stringMatching(/^external-/)]);
    events = [];
    await load(backendWith({ prepackedCache: true }));
    expect(prepackEvents()).toEqual([]);
  });

  it('with write: false reads entries but writes none', async () => {
    expectMatMul(
      (await (await load(backendWith({ prepackedCache: { directory: cache, write: false } }))).run({ x: x() })).y,
    );
    expect(prepackEvents()).toEqual([]);
    await expect(readdir(cache)).rejects.toThrow();
    await load();
    events = [];
    await load(backendWith({ prepackedCache: { directory: cache, write: false } }));
    expect(prepackEvents()).toEqual([]);
    expect(await readdir(cache)).toHaveLength(1);
  });

  it('loads without the cache, with a warning, when its folder cannot be made', async () => {
    const file = join(await folders.folder(), 'a-file');
    await writeFile(file, 'in the way');
    expectMatMul((await (await load(backendWith({ prepackedCache: join(file, 'cache') }))).run({ x: x() })).y);
    expect(warnings).toEqual([expect.objectContaining({ code: 'PREPACK_CACHE_SKIPPED', file: join(file, 'cache') })]);
    expect(warnings[0]!.message).toContain(modelPath);
  });

  it('is not used for models given as bytes', async () => {
    const bytesSession = await session(
      backendWith({ prepackedCache: cache }).createSession(models.add, { onProgress: (event) => events.push(event) }),
    );
    expect(bytesSession.inputNames.length).toBeGreaterThan(0);
    expect(prepackEvents()).toEqual([]);
    await expect(readdir(cache)).rejects.toThrow();
  });

  it('refuses an empty folder name or a malformed object', async () => {
    for (const prepackedCache of ['', { directory: 3 }, { write: 'yes' }, 7] as never[]) {
      const error = await expectRejection(Promise.resolve().then(() => createNodeBackend({ prepackedCache })));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.field).toBe('options.prepackedCache');
    }
  });
});

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tensor, VideoLlavaError } from '@video-llava/core';
import { IN_PLACE_ATTENTION, buildInPlaceModels } from '@video-llava/runtime/testing';
import { temporaryFolders } from '@video-llava/test-utils';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { createInplaceSession, createNodeBackend, isInplaceRunnerAvailable, loadInplaceRunner } from '../src/index.js';

// The in-place runner is built by this package's build (src/native/build.mjs); the test suite builds it first
// (vitest.config.ts's globalSetup), so here it must load.
const folders = temporaryFolders('video-llava-inplace-');
afterAll(() => folders.removeAll());

async function save(model: Uint8Array): Promise<string> {
  const path = join(await folders.folder(), 'model.onnx');
  await writeFile(path, model);
  return path;
}

const { heads: HEADS, headDim: HEAD_DIM, capacity: CAPACITY } = IN_PLACE_ATTENTION;
const models = buildInPlaceModels();
const addModel = () => models.sumAndProduct;
const attentionModel = (int8: boolean) => models.groupQueryAttention(int8);

const wave = (length: number, phase: number) => Float32Array.from({ length }, (_, i) => Math.sin(i * 0.7 + phase));

describe('createInplaceSession', () => {
  it('loads the runner and ONNX Runtime 1.30 from onnxruntime-node', () => {
    expect(isInplaceRunnerAvailable()).toBe(true);
    expect(loadInplaceRunner()).toBe('1.30.0');
  });

  it('writes each output into the tensor given for it', async () => {
    const session = await createInplaceSession(await save(addModel()), { intraOpThreads: 1 });
    expect(session.inputNames).toEqual(['x', 'y']);
    expect(session.outputNames).toEqual(['sum', 'product']);
    expect(session.inputMetadata).toEqual([
      { name: 'x', dtype: 'float32', shape: [2, 'n'] },
      { name: 'y', dtype: 'float32', shape: [2, 'n'] },
    ]);
    expect(session.outputMetadata[1]).toEqual({ name: 'product', dtype: 'float32', shape: [2, 'n'] });
    const x = new Tensor('float32', Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]);
    const y = new Tensor('float32', Float32Array.of(10, 20, 30, 40, 50, 60), [2, 3]);
    const sum = new Tensor('float32', new Float32Array(6), [2, 3]);
    const product = new Tensor('float32', new Float32Array(6), [2, 3]);
    await session.run({ x, y }, { sum, product });
    expect([...sum.data]).toEqual([11, 22, 33, 44, 55, 66]);
    expect([...product.data]).toEqual([10, 40, 90, 160, 250, 360]);
    // Only the outputs asked for are written.
    const onlySum = new Tensor('float32', new Float32Array(6), [2, 3]);
    await session.run({ x: y, y: x }, { sum: onlySum });
    expect([...onlySum.data]).toEqual([11, 22, 33, 44, 55, 66]);
    // An output of a subarray view: ONNX Runtime writes at its offset, nothing around it.
    const backing = new Float32Array(8).fill(-1);
    await session.run({ x, y }, { sum: new Tensor('float32', backing.subarray(1, 7), [2, 3]) });
    expect([...backing]).toEqual([-1, 11, 22, 33, 44, 55, 66, -1]);
    await session.release();
    await session.release();
  });

  for (const int8 of [false, true]) {
    it(`lets GroupQueryAttention update a ${int8 ? 'int8' : 'float32'} past/present buffer in place, as onnxruntime-node computes it`, async () => {
      const model = attentionModel(int8);
      const past = 3;
      const size = HEADS * CAPACITY * HEAD_DIM;
      const cache = (phase: number) =>
        int8
          ? new Tensor(
              'int8',
              Int8Array.from({ length: size }, (_, i) => ((i * 37 + phase) % 200) - 100),
              [1, HEADS, CAPACITY, HEAD_DIM],
            )
          : new Tensor('float32', wave(size, phase), [1, HEADS, CAPACITY, HEAD_DIM]);
      const feeds: Record<string, Tensor> = {
        q: new Tensor('float32', wave(HEADS * HEAD_DIM, 0.1), [1, 1, HEADS * HEAD_DIM]),
        k: new Tensor('float32', wave(HEADS * HEAD_DIM, 0.2), [1, 1, HEADS * HEAD_DIM]),
        v: new Tensor('float32', wave(HEADS * HEAD_DIM, 0.3), [1, 1, HEADS * HEAD_DIM]),
        past_key: cache(1),
        past_value: cache(2),
        seqlens_k: new Tensor('int32', Int32Array.of(past), [1]),
        total: new Tensor('int32', Int32Array.of(past + 1), []),
        ...(int8
          ? {
              k_scale: new Tensor('float32', new Float32Array(HEADS * HEAD_DIM).fill(0.02), [HEADS, 1, HEAD_DIM]),
              v_scale: new Tensor('float32', new Float32Array(HEADS * HEAD_DIM).fill(0.03), [HEADS, 1, HEAD_DIM]),
            }
          : {}),
      };
      // The reference: onnxruntime-node's own binding, which returns copies of the present buffers.
      const reference = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
      const expected = await reference.run(
        Object.fromEntries(
          Object.entries(feeds).map(([name, tensor]) => [
            name,
            new ort.Tensor(tensor.dtype, tensor.data.slice() as Float32Array, tensor.dims),
          ]),
        ),
      );
      await reference.release();

      const session = await createInplaceSession(await save(model), { intraOpThreads: 1 });
      const before = feeds.past_key!.data.slice();
      const out = new Tensor('float32', new Float32Array(HEADS * HEAD_DIM), [1, 1, HEADS * HEAD_DIM]);
      await session.run(feeds, { out, present_key: feeds.past_key!, present_value: feeds.past_value! });
      await session.release();

      expect([...out.data]).toEqual([...(expected.out!.data as Float32Array)]);
      // The fed buffers now hold what onnxruntime-node returns as present over the positions written (the past and
      // the new one); the positions after them are as they were (onnxruntime-node's copy has zeros there).
      for (const [name, present] of [
        ['past_key', 'present_key'],
        ['past_value', 'present_value'],
      ] as const) {
        const buffer = feeds[name]!.data;
        const copy = expected[present]!.data as Float32Array;
        const original = name === 'past_key' ? before : cache(2).data;
        let changed = 0;
        for (let head = 0; head < HEADS; head++)
          for (let position = 0; position < CAPACITY; position++)
            for (let d = 0; d < HEAD_DIM; d++) {
              const i = (head * CAPACITY + position) * HEAD_DIM + d;
              if (position <= past) expect(buffer[i]).toBe(copy[i]);
              else expect(buffer[i]).toBe(original[i]);
              if (buffer[i] !== original[i]) changed++;
            }
        // Only the new position changed, and it did.
        expect(changed).toBeGreaterThan(0);
        expect(changed).toBeLessThanOrEqual(HEADS * HEAD_DIM);
      }
    });
  }

  it('names what is wrong with a run, and refuses runs after release', async () => {
    const session = await createInplaceSession(await save(addModel()));
    const x = new Tensor('float32', new Float32Array(6), [2, 3]);
    const out = new Tensor('float32', new Float32Array(6), [2, 3]);
    await expect(session.run({ x }, { sum: out })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'y' });
    await expect(session.run({ x, y: x, z: x }, { sum: out })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'z',
    });
    await expect(session.run({ x, y: x }, { total: out })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'total',
    });
    // An output whose dims are not those the run produces: ONNX Runtime's own message.
    const wrong = new Tensor('float32', new Float32Array(4), [2, 2]);
    const error = await session.run({ x, y: x }, { sum: wrong }).catch((caught: unknown) => caught);
    expect(VideoLlavaError.isInstance(error) && error.code).toBe('RUNTIME_ERROR');
    expect((error as Error).message).toMatch(/shape|dimension/i);
    // The session still runs after a failed run.
    await session.run({ x, y: x }, { sum: out });
    await session.release();
    await expect(session.run({ x, y: x }, { sum: out })).rejects.toMatchObject({ code: 'SESSION_RELEASED' });
  });

  it('refuses a file that is not a model and options out of range', async () => {
    const folder = await folders.place({ 'broken.onnx': Uint8Array.of(1, 2, 3, 4) });
    await expect(createInplaceSession(folder('broken.onnx'))).rejects.toMatchObject({
      code: 'INVALID_FILE',
      file: folder('broken.onnx'),
    });
    await expect(createInplaceSession(folder('missing.onnx'))).rejects.toMatchObject({ code: 'INVALID_FILE' });
    await expect(createInplaceSession(folder('broken.onnx'), { intraOpThreads: -1 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'intraOpThreads',
    });
  });
});

describe("createNodeBackend's sessions with inPlaceOutputs", () => {
  const backend = createNodeBackend();

  it('says it can, and runs GroupQueryAttention over one buffer through the runtime interface', async () => {
    expect(backend.capabilities.inPlaceOutputs).toBe(true);
    const path = await save(attentionModel(true));
    const session = await backend.createSession(path, { inPlaceOutputs: true, threads: 1 });
    expect(session.executionProvider).toBe('cpu');
    expect(session.inputMetadata.find((value) => value.name === 'past_key')).toEqual({
      name: 'past_key',
      dtype: 'int8',
      shape: [1, HEADS, CAPACITY, HEAD_DIM],
    });
    // The same step through a plain session (outputs computed, then copied into the buffers) and in place.
    const plain = await backend.createSession(path, { threads: 1 });
    const results = [];
    for (const target of [plain, session]) {
      const pastKey = new Tensor(
        'int8',
        Int8Array.from({ length: HEADS * CAPACITY * HEAD_DIM }, (_, i) => (i % 50) - 25),
        [1, HEADS, CAPACITY, HEAD_DIM],
      );
      const pastValue = new Tensor(
        'int8',
        Int8Array.from({ length: HEADS * CAPACITY * HEAD_DIM }, (_, i) => (i % 30) - 15),
        [1, HEADS, CAPACITY, HEAD_DIM],
      );
      const out = new Tensor('float32', new Float32Array(HEADS * HEAD_DIM), [1, 1, HEADS * HEAD_DIM]);
      const outputs = await target.run(
        {
          q: new Tensor('float32', wave(HEADS * HEAD_DIM, 0.1), [1, 1, HEADS * HEAD_DIM]),
          k: new Tensor('float32', wave(HEADS * HEAD_DIM, 0.2), [1, 1, HEADS * HEAD_DIM]),
          v: new Tensor('float32', wave(HEADS * HEAD_DIM, 0.3), [1, 1, HEADS * HEAD_DIM]),
          past_key: pastKey,
          past_value: pastValue,
          seqlens_k: new Tensor('int32', Int32Array.of(2), [1]),
          total: new Tensor('int32', Int32Array.of(3), []),
          k_scale: new Tensor('float32', new Float32Array(HEADS * HEAD_DIM).fill(0.02), [HEADS, 1, HEAD_DIM]),
          v_scale: new Tensor('float32', new Float32Array(HEADS * HEAD_DIM).fill(0.03), [HEADS, 1, HEAD_DIM]),
        },
        { outputBuffers: { out, present_key: pastKey, present_value: pastValue } },
      );
      expect(outputs.out).toBe(out);
      expect(outputs.present_key).toBe(pastKey);
      results.push({ out: [...out.data], key: [...pastKey.data].slice(0, 3 * HEAD_DIM), value: [...pastValue.data] });
    }
    // The plain session's copy holds zeros after the positions filled; compare the positions both wrote.
    expect(results[1]!.out).toEqual(results[0]!.out);
    expect(results[1]!.key).toEqual(results[0]!.key);
    await session.release();
    await plain.release();
  });

  it('needs a buffer for every output and the CPU provider; a model given as bytes loads without the runner', async () => {
    const path = await save(addModel());
    const session = await backend.createSession(path, { inPlaceOutputs: true });
    const x = new Tensor('float32', new Float32Array(6), [2, 3]);
    const sum = new Tensor('float32', new Float32Array(6), [2, 3]);
    await expect(session.run({ x, y: x }, { outputBuffers: { sum } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'options.outputBuffers',
    });
    await session.run({ x, y: x }, { outputs: ['sum'], outputBuffers: { sum } });
    await session.release();
    // A model given as bytes cannot go to the runner: it loads as a regular session, whose runs fill the buffers by a
    // copy (and need none for the outputs they compute).
    const fromBytes = await backend.createSession(addModel(), { inPlaceOutputs: true });
    const copied = new Tensor('float32', new Float32Array(6), [2, 3]);
    const result = await fromBytes.run(
      { x: new Tensor('float32', Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]), y: x },
      { outputBuffers: { sum: copied } },
    );
    expect(result.sum).toBe(copied);
    expect([...copied.data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(result.product).toBeDefined();
    await fromBytes.release();
    await expect(
      backend.createSession(path, { inPlaceOutputs: true, executionProviders: ['cuda'] }),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED', field: 'options.executionProviders' });
    await expect(backend.createSession(path, { inPlaceOutputs: true, outputLocation: 'device' })).rejects.toMatchObject(
      {
        code: 'UNSUPPORTED',
        field: 'options.outputLocation',
      },
    );
    await expect(backend.createSession(path, { inPlaceOutputs: 'yes' as never })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'options.inPlaceOutputs',
    });
  });
});

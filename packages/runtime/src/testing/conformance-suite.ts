import { Tensor, float16ToFloat32, float32ToFloat16 } from '@video-llava/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, ModelFile, SessionOptions } from '../backend.js';
import { DeviceTensor } from '../device-tensor.js';
import type { InferenceSession, SessionFeeds } from '../inference-session.js';
import { type RuntimeTensor, isCpuTensor, toCpuTensor } from '../runtime-tensor.js';
import { formatSignature } from '../value-metadata.js';
import { type ConformanceModels, buildConformanceModels } from './conformance-models.js';
import { FLOAT32_TOLERANCE, expectMatMulOutput } from './expect-mat-mul-output.js';
import { expectRejection } from './expect-rejection.js';
import { releaseSessionsAfterEach } from './release-sessions-after-each.js';

/** Where a set of files was put, so the backend can load them by location. */
export type FileLocator = (name: string) => ModelFile;

/** A backend under test, with what the suite needs around it. */
export interface ConformanceTarget {
  /** The backend. */
  backend: Backend;
  /**
   * Puts files where the backend loads them by location (a fresh folder, a fresh path on a local web server)
   * and returns how to locate any name there, including names that were not put (for the missing-file tests).
   */
  placeFiles(files: Readonly<Record<string, Uint8Array>>): Promise<FileLocator>;
  /** Options added to every session the suite creates (execution providers, say). */
  sessionOptions?: SessionOptions;
  /** When set, every session must report this execution provider (no silent fallback). */
  expectedExecutionProvider?: string;
  /** When set, outputs kept on the device must report this device (e.g. `"webgpu"`). */
  expectedDevice?: string;
  /**
   * Whether the target computes in float16. When `false` (a GPU without float16 shaders), sessions of float16
   * models must be refused with `UNSUPPORTED`, never computed wrongly.
   * @default true
   */
  float16?: boolean;
  /** Frees what setup made (servers, browsers, folders). */
  close?(): Promise<void>;
}

function float32(values: readonly number[], dims: readonly number[]): Tensor<'float32'> {
  return new Tensor('float32', Float32Array.from(values), dims);
}

function cpu(value: RuntimeTensor | undefined): Tensor {
  expect(isCpuTensor(value), `expected a CPU tensor, got ${String(value)}`).toBe(true);
  return value as Tensor;
}

/**
 * Registers the conformance suite for a backend: one `describe` block of vitest tests over small ONNX models the
 * suite builds itself (Add, MatMul, every dtype, symbolic dimensions, external data, a KV-cache step), and every
 * error a backend must report the same way. Call it at the top level of a test file.
 *
 * @param name names the `describe` block, e.g. `"onnxruntime-node (cpu)"`
 * @param setup makes the target once, before the tests (start servers, browsers, ... here)
 *
 * @example
 * describeBackendConformance('onnxruntime-node', async () => ({ backend: createNodeBackend(), placeFiles: placeInTemporaryFolder }));
 */
export function describeBackendConformance(
  name: string,
  setup: () => ConformanceTarget | Promise<ConformanceTarget>,
): void {
  describe(`${name} conforms to the runtime interface`, () => {
    let target: ConformanceTarget;
    let models: ConformanceModels;
    let locate: FileLocator;
    const keep = releaseSessionsAfterEach();

    beforeAll(async () => {
      target = await setup();
      models = buildConformanceModels();
      locate = await target.placeFiles({
        'add.onnx': models.add,
        'matmul.onnx': models.matmul,
        'dtypes.onnx': models.dtypes,
        'float16.onnx': models.float16,
        'symbolic.onnx': models.symbolic,
        'kv-cache.onnx': models.kvCache,
        'external.onnx': models.externalData,
        [models.externalDataFileName]: models.externalDataFile,
        'corrupt.onnx': models.add.subarray(0, Math.floor(models.add.length / 2)),
      });
    });

    afterAll(async () => {
      await target?.close?.();
    });

    const create = async (model: ModelFile, options: SessionOptions = {}): Promise<InferenceSession> => {
      const session = await keep(target.backend.createSession(model, { ...target.sessionOptions, ...options }));
      if (target.expectedExecutionProvider !== undefined)
        expect(session.executionProvider).toBe(target.expectedExecutionProvider);
      return session;
    };

    const addFeeds = (): SessionFeeds => ({
      a: float32([1, 2, 3, 4, 5, 6], [2, 3]),
      b: float32([10, 20, 30, 40, 50, 60], [2, 3]),
    });

    describe('sessions', () => {
      it('reports input and output names, dtypes and shapes with symbolic dimensions', async () => {
        const session = await create(locate('add.onnx'));
        expect(session.inputNames).toEqual(['a', 'b']);
        expect(session.outputNames).toEqual(['c']);
        expect(session.inputMetadata).toEqual([
          { name: 'a', dtype: 'float32', shape: ['batch', 3] },
          { name: 'b', dtype: 'float32', shape: ['batch', 3] },
        ]);
        expect(session.outputMetadata).toEqual([{ name: 'c', dtype: 'float32', shape: ['batch', 3] }]);
        expect(target.backend.capabilities.executionProviders).toContain(session.executionProvider);
        expect(session.outputLocations).toEqual({ c: 'cpu' });
        expect(session.released).toBe(false);
      });

      it('runs Add and returns CPU tensors', async () => {
        const session = await create(locate('add.onnx'));
        const feeds = addFeeds();
        const { c } = await session.run(feeds);
        const result = cpu(c);
        expect(result.dtype).toBe('float32');
        expect(result.dims).toEqual([2, 3]);
        const a = (feeds.a as Tensor).data as Float32Array;
        const b = (feeds.b as Tensor).data as Float32Array;
        expect([...result.data]).toEqual([...a].map((value, index) => value + b[index]!));
      });

      it(`runs MatMul with inline weights (float32 within ${FLOAT32_TOLERANCE})`, async () => {
        const session = await create(locate('matmul.onnx'));
        const x = Float32Array.from({ length: 8 }, (_, index) => index * 0.75 - 2);
        const { y } = await session.run({ x: new Tensor('float32', x, [2, 4]) });
        expect(cpu(y).dims).toEqual([2, 3]);
        expectMatMulOutput(y, x, models.weights);
      });

      it('loads a model from bytes and from an ArrayBuffer as from a file', async () => {
        const x = Float32Array.from([1, -1, 0.5, 2]);
        const fromBytes = await create(models.matmul.slice());
        const fromBuffer = await create(models.matmul.slice().buffer);
        for (const session of [fromBytes, fromBuffer]) {
          const { y } = await session.run({ x: new Tensor('float32', x.slice(), [1, 4]) });
          expectMatMulOutput(y, x, models.weights);
        }
      });

      it('passes int64, int32, int8, uint8 and bool through unchanged', async () => {
        const session = await create(locate('dtypes.onnx'));
        expect(session.inputMetadata.map((input) => input.dtype)).toEqual(['int64', 'int32', 'int8', 'uint8', 'bool']);
        const feeds = {
          i64: new Tensor('int64', BigInt64Array.from([2n ** 40n, -3n, 0n]), [3]),
          i32: new Tensor('int32', Int32Array.from([-7, 2 ** 29]), [2]),
          i8: new Tensor('int8', Int8Array.from([-128, 127]), [2]),
          u8: new Tensor('uint8', Uint8Array.from([0, 1, 128, 255]), [4]),
          flag: new Tensor('bool', Uint8Array.from([1, 0, 1]), [3]),
        };
        const outputs = await session.run(feeds);
        expect(cpu(outputs.i64_out).data).toBeInstanceOf(BigInt64Array);
        expect([...cpu(outputs.i64_out).data]).toEqual([...feeds.i64.data].map((value) => value * 2n));
        expect([...cpu(outputs.i32_out).data]).toEqual([...feeds.i32.data].map((value) => value * 2));
        expect(cpu(outputs.i8_out).dtype).toBe('int8');
        expect([...cpu(outputs.i8_out).data]).toEqual([-128, 127]);
        expect(cpu(outputs.u8_out).dtype).toBe('uint8');
        expect([...cpu(outputs.u8_out).data]).toEqual([0, 1, 128, 255]);
        const flag = cpu(outputs.flag_out);
        expect(flag.dtype).toBe('bool');
        expect(flag.data).toBeInstanceOf(Uint8Array);
        expect([...flag.data]).toEqual([0, 1, 0]);
      });

      it('passes float16 through as raw bits and computes with it, or refuses where the device cannot', async () => {
        if (target.float16 === false) {
          const error = await expectRejection(create(locate('float16.onnx')));
          expect(error.code).toBe('UNSUPPORTED');
          expect(error.message).toContain('float16');
          return;
        }
        const session = await create(locate('float16.onnx'));
        expect(session.inputMetadata).toEqual([{ name: 'f16', dtype: 'float16', shape: [2, 2] }]);
        const halves = Float32Array.from([0.5, -2, 1024, 6.103515625e-5]);
        const f16 = new Tensor('float16', float32ToFloat16(halves), [2, 2]);
        const outputs = await session.run({ f16 });
        const out = cpu(outputs.f16_out);
        expect(out.dtype).toBe('float16');
        expect(out.data).toBeInstanceOf(Uint16Array);
        expect([...out.data]).toEqual([...f16.data]);
        expect([...float16ToFloat32(out.data as Uint16Array)]).toEqual([...halves]);
        expect([...cpu(outputs.f16_as_f32).data]).toEqual([...halves]);
      });

      it('accepts any size for symbolic dimensions, run after run', async () => {
        const session = await create(locate('symbolic.onnx'));
        expect(session.inputMetadata[0]!.shape).toEqual(['batch', 'sequence', 2]);
        for (const [batch, sequence] of [
          [1, 1],
          [3, 5],
          [2, 0],
        ] as const) {
          const values = Array.from({ length: batch * sequence * 2 }, (_, index) => index - 3);
          const { y } = await session.run({ x: float32(values, [batch, sequence, 2]) });
          expect(cpu(y).dims).toEqual([batch, sequence, 2]);
          expect([...cpu(y).data]).toEqual(values.map((value) => value * value));
        }
      });

      it('computes only the outputs asked for', async () => {
        const session = await create(locate('dtypes.onnx'));
        const feeds = {
          i64: new Tensor('int64', BigInt64Array.from([1n, 2n, 3n]), [3]),
          i32: new Tensor('int32', Int32Array.from([1, 2]), [2]),
          i8: new Tensor('int8', Int8Array.from([1, 2]), [2]),
          u8: new Tensor('uint8', Uint8Array.from([1, 2, 3, 4]), [4]),
          flag: new Tensor('bool', Uint8Array.from([0, 0, 1]), [3]),
        };
        const outputs = await session.run(feeds, { outputs: ['i64_out', 'flag_out'] });
        expect(Object.keys(outputs).sort()).toEqual(['flag_out', 'i64_out']);
        expect([...cpu(outputs.i64_out).data]).toEqual([2n, 4n, 6n]);
      });

      it("writes outputs into the tensors of outputBuffers, an input's tensor included, and returns them", async () => {
        const session = await create(locate('add.onnx'));
        const feeds = addFeeds();
        const c = float32([0, 0, 0, 0, 0, 0], [2, 3]);
        const outputs = await session.run(feeds, { outputBuffers: { c } });
        expect(outputs.c).toBe(c);
        expect([...(c.data as Float32Array)]).toEqual([11, 22, 33, 44, 55, 66]);
        // The output bound to an input's own tensor: a = a + b, run after run.
        const a = feeds.a as Tensor<'float32'>;
        await session.run(feeds, { outputBuffers: { c: a } });
        await session.run(feeds, { outputBuffers: { c: a } });
        expect([...a.data]).toEqual([21, 42, 63, 84, 105, 126]);
      });

      it('loads weights from an external data file beside the model, named or found', async () => {
        const x = Float32Array.from([0.25, 1, -3, 2]);
        const named = await create(locate('external.onnx'), { externalData: [models.externalDataFileName] });
        const found = await create(locate('external.onnx'));
        for (const session of [named, found]) {
          const { y } = await session.run({ x: new Tensor('float32', x.slice(), [1, 4]) });
          expectMatMulOutput(y, x, models.weights);
        }
      });

      it('loads external data given as bytes with a model given as bytes', async () => {
        const session = await create(models.externalData.slice(), {
          externalData: [{ path: models.externalDataFileName, data: models.externalDataFile.slice() }],
        });
        const x = Float32Array.from([1, 2, 3, 4]);
        const { y } = await session.run({ x: new Tensor('float32', x, [1, 4]) });
        expectMatMulOutput(y, x, models.weights);
      });

      it('keeps outputs on the device between runs, as a KV cache', async () => {
        const session = await create(locate('kv-cache.onnx'), { outputLocation: { present: 'device' } });
        expect(session.outputLocations).toEqual({ present: 'device', doubled: 'cpu' });
        let past: RuntimeTensor = new Tensor('float32', new Float32Array(0), [1, 0, 2]);
        const expected: number[] = [];
        for (let step = 0; step < 3; step++) {
          const values = Array.from({ length: (step + 1) * 2 }, (_, index) => step * 10 + index);
          expected.push(...values);
          const outputs = await session.run({ past, current: float32(values, [1, step + 1, 2]) });
          const present = outputs.present;
          expect(DeviceTensor.isInstance(present), 'present stays on the device').toBe(true);
          const device = present as DeviceTensor;
          if (target.expectedDevice !== undefined) expect(device.device).toBe(target.expectedDevice);
          expect(device.backend).toBe(target.backend.name);
          expect(device.dtype).toBe('float32');
          expect(device.dims).toEqual([1, expected.length / 2, 2]);
          expect([...cpu(outputs.doubled).data]).toEqual(values.map((value) => value * 2));
          if (DeviceTensor.isInstance(past)) past.dispose();
          past = device;
        }
        const final = await toCpuTensor(past);
        expect(final.dims).toEqual([1, expected.length / 2, 2]);
        expect([...final.data]).toEqual(expected);
        (past as DeviceTensor).dispose();
        expect((past as DeviceTensor).disposed).toBe(true);
        const error = await expectRejection(session.run({ past, current: float32([1, 2], [1, 1, 2]) }));
        expect(error.code).toBe('INVALID_ARGUMENT');
        expect(error.field).toBe('feeds.past');
      });

      it('honours threads, graph optimization level and free dimension overrides', async () => {
        const session = await create(locate('add.onnx'), {
          threads: 1,
          graphOptimizationLevel: 'disabled',
          freeDimensionOverrides: { batch: 2 },
        });
        const { c } = await session.run(addFeeds());
        expect([...cpu(c).data]).toEqual([11, 22, 33, 44, 55, 66]);
      });

      it('queues runs of one session and answers each with its own feeds', async () => {
        const session = await create(locate('symbolic.onnx'));
        const inputs = [1, 2, 3, 4].map((size) => Array.from({ length: size * 2 }, (_, index) => index + size));
        const results = await Promise.all(
          inputs.map((values) => session.run({ x: float32(values, [1, values.length / 2, 2]) })),
        );
        results.forEach((outputs, index) =>
          expect([...cpu(outputs.y).data]).toEqual(inputs[index]!.map((value) => value * value)),
        );
      });

      it('releases once, after the run in progress, and refuses runs afterwards', async () => {
        const session = await create(locate('add.onnx'));
        const pending = session.run(addFeeds());
        const released = session.release();
        expect(session.released).toBe(true);
        expect([...cpu((await pending).c).data]).toEqual([11, 22, 33, 44, 55, 66]);
        await released;
        await session.release();
        const error = await expectRejection(session.run(addFeeds()));
        expect(error.code).toBe('SESSION_RELEASED');
        expect(error.message).toContain('add.onnx');
      });
    });

    describe('errors', () => {
      it('FILE_NOT_FOUND for a missing model file, naming it', async () => {
        const error = await expectRejection(create(locate('missing.onnx')));
        expect(error.code).toBe('FILE_NOT_FOUND');
        expect(error.file).toContain('missing.onnx');
        expect(error.message).toContain('missing.onnx');
      });

      it('INVALID_FILE for corrupt model bytes and a corrupt model file', async () => {
        const fromBytes = await expectRejection(create(Uint8Array.from([8, 7, 18, 3, 0xff, 0xff, 0xff, 0x3a, 0x99])));
        expect(fromBytes.code).toBe('INVALID_FILE');
        const fromFile = await expectRejection(create(locate('corrupt.onnx')));
        expect(fromFile.code).toBe('INVALID_FILE');
        expect(fromFile.file).toContain('corrupt.onnx');
      });

      it('FILE_NOT_FOUND for a missing external data file, named or found in the model', async () => {
        const only = await target.placeFiles({ 'external.onnx': models.externalData });
        for (const options of [{ externalData: [models.externalDataFileName] }, {}]) {
          const error = await expectRejection(create(only('external.onnx'), options));
          expect(error.code).toBe('FILE_NOT_FOUND');
          expect(error.file).toContain(models.externalDataFileName);
          expect(error.message).toContain(models.externalDataFileName);
        }
      });

      it('INVALID_ARGUMENT for an unknown execution provider', async () => {
        const error = await expectRejection(
          target.backend.createSession(locate('add.onnx'), { executionProviders: ['no-such-provider'] }),
        );
        expect(error.code).toBe('INVALID_ARGUMENT');
        expect(error.field).toBe('options.executionProviders[0]');
      });

      it('INVALID_ARGUMENT for an unknown feed name, showing the signature', async () => {
        const session = await create(locate('add.onnx'));
        const error = await expectRejection(session.run({ ...addFeeds(), bias: float32([1], [1]) }));
        expect(error.code).toBe('INVALID_ARGUMENT');
        expect(error.field).toBe('feeds.bias');
        expect(error.message).toContain('"bias"');
        expect(error.message).toContain(formatSignature(session.inputMetadata));
        expect(error.message).toContain('a: float32[batch, 3]');
      });

      it('INVALID_ARGUMENT for a missing feed', async () => {
        const session = await create(locate('add.onnx'));
        const error = await expectRejection(session.run({ a: float32([1, 2, 3], [1, 3]) }));
        expect(error.code).toBe('INVALID_ARGUMENT');
        expect(error.field).toBe('feeds.b');
        expect(error.message).toContain('b: float32[batch, 3]');
      });

      it('DTYPE_MISMATCH for a feed of the wrong dtype, showing the signature', async () => {
        const session = await create(locate('add.onnx'));
        const error = await expectRejection(
          session.run({ a: float32([1, 2, 3], [1, 3]), b: new Tensor('int64', new BigInt64Array(3), [1, 3]) }),
        );
        expect(error.code).toBe('DTYPE_MISMATCH');
        expect(error.field).toBe('feeds.b');
        expect(error.message).toContain('int64[1, 3]');
        expect(error.message).toContain(formatSignature(session.inputMetadata));
      });

      it('SHAPE_MISMATCH for a wrong rank or a wrong fixed dimension, showing the signature', async () => {
        const session = await create(locate('add.onnx'));
        const rank = await expectRejection(session.run({ a: float32([1, 2, 3], [3]), b: float32([1, 2, 3], [1, 3]) }));
        expect(rank.code).toBe('SHAPE_MISMATCH');
        expect(rank.field).toBe('feeds.a');
        expect(rank.message).toContain(formatSignature(session.inputMetadata));
        const size = await expectRejection(
          session.run({ a: float32([1, 2, 3], [1, 3]), b: float32([1, 2, 3, 4], [1, 4]) }),
        );
        expect(size.code).toBe('SHAPE_MISMATCH');
        expect(size.field).toBe('feeds.b');
        expect(size.message).toContain('float32[1, 4]');
        expect(size.message).toContain('b: float32[batch, 3]');
      });

      it('INVALID_ARGUMENT for an unknown output name', async () => {
        const session = await create(locate('add.onnx'));
        const error = await expectRejection(session.run(addFeeds(), { outputs: ['d'] }));
        expect(error.code).toBe('INVALID_ARGUMENT');
        expect(error.field).toBe('options.outputs');
        expect(error.message).toContain('c: float32[batch, 3]');
      });

      it('ABORTED for a run whose signal was aborted before it started', async () => {
        const session = await create(locate('add.onnx'));
        const controller = new AbortController();
        controller.abort(new Error('the user stopped'));
        const error = await expectRejection(session.run(addFeeds(), { signal: controller.signal }));
        expect(error.code).toBe('ABORTED');
      });

      it('ABORTED for a run aborted while in flight, leaving the session usable', async () => {
        const session = await create(locate('add.onnx'));
        const controller = new AbortController();
        const pending = session.run(addFeeds(), { signal: controller.signal });
        controller.abort(new Error('the user stopped'));
        const error = await expectRejection(pending);
        expect(error.code).toBe('ABORTED');
        const { c } = await session.run(addFeeds());
        expect([...cpu(c).data]).toEqual([11, 22, 33, 44, 55, 66]);
      });

      it('ABORTED for a load whose signal was aborted', async () => {
        const controller = new AbortController();
        controller.abort();
        const error = await expectRejection(
          target.backend.createSession(locate('add.onnx'), { ...target.sessionOptions, signal: controller.signal }),
        );
        expect(error.code).toBe('ABORTED');
      });
    });
  });
}

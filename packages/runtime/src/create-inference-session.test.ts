import { Tensor, VideoLlavaError } from '@video-llava/core';
import { describe, expect, it } from 'vitest';
import { createInferenceSession } from './create-inference-session.js';
import { DeviceTensor } from './device-tensor.js';
import type { RuntimeTensor } from './runtime-tensor.js';
import type { SessionAdapter } from './session-adapter.js';
import { expectRejection } from './testing/expect-rejection.js';

interface Gate {
  promise: Promise<void>;
  open(): void;
}

function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** An adapter for `y = x + 1` (float32[n]) and `z = x` kept on the device, that records what happened. */
function adapter(behaviour: { wait?: Promise<void>; fail?: unknown } = {}) {
  const log: string[] = [];
  let disposed = 0;
  const value: SessionAdapter = {
    inputMetadata: [{ name: 'x', dtype: 'float32', shape: ['n'] }],
    outputMetadata: [
      { name: 'y', dtype: 'float32', shape: ['n'] },
      { name: 'z', dtype: 'float32', shape: ['n'] },
    ],
    executionProvider: 'cpu',
    outputLocations: { y: 'cpu', z: 'device' },
    async run(feeds, outputNames) {
      const x = feeds.x as Tensor<'float32'>;
      log.push(`start ${x.data[0]}`);
      await behaviour.wait;
      if (behaviour.fail !== undefined) throw behaviour.fail;
      log.push(`end ${x.data[0]}`);
      const outputs: Record<string, RuntimeTensor> = {};
      if (outputNames.includes('y'))
        outputs.y = new Tensor(
          'float32',
          x.data.map((item) => item + 1),
          x.dims,
        );
      if (outputNames.includes('z')) {
        outputs.z = new DeviceTensor({
          dtype: 'float32',
          dims: x.dims,
          device: 'test',
          backend: 'test',
          handle: x,
          download: async () => x,
          dispose: () => disposed++,
        });
      }
      return outputs;
    },
    async release() {
      log.push('release');
    },
  };
  return { value, log, disposed: () => disposed };
}

const context = { model: 'plus-one.onnx', file: '/models/plus-one.onnx', backend: 'test' };
const x = (first: number): Tensor<'float32'> => new Tensor('float32', Float32Array.from([first, first + 1]), [2]);

describe('createInferenceSession', () => {
  it('reports the adapter signature, frozen', () => {
    const session = createInferenceSession(adapter().value, context);
    expect(session.inputNames).toEqual(['x']);
    expect(session.outputNames).toEqual(['y', 'z']);
    expect(session.outputLocations).toEqual({ y: 'cpu', z: 'device' });
    expect(Object.isFrozen(session.inputMetadata)).toBe(true);
    expect(Object.isFrozen(session.outputLocations)).toBe(true);
  });

  it('runs every output by default and only those asked for otherwise', async () => {
    const session = createInferenceSession(adapter().value, context);
    const all = await session.run({ x: x(1) });
    expect(Object.keys(all)).toEqual(['y', 'z']);
    expect([...(all.y as Tensor).data]).toEqual([2, 3]);
    expect(DeviceTensor.isInstance(all.z)).toBe(true);
    expect(Object.keys(await session.run({ x: x(1) }, { outputs: ['y'] }))).toEqual(['y']);
  });

  it('refuses an empty or unknown output list before running', async () => {
    const { value, log } = adapter();
    const session = createInferenceSession(value, context);
    const empty = await expectRejection(session.run({ x: x(1) }, { outputs: [] }));
    expect(empty.code).toBe('INVALID_ARGUMENT');
    expect(empty.field).toBe('options.outputs');
    const unknown = await expectRejection(session.run({ x: x(1) }, { outputs: ['w'] }));
    expect(unknown.actual).toBe('w');
    expect(unknown.file).toBe('/models/plus-one.onnx');
    expect(unknown.message).toContain('Its outputs: y: float32[n], z: float32[n]');
    expect(log).toEqual([]);
  });

  it('checks feeds before the adapter sees them', async () => {
    const { value, log } = adapter();
    const session = createInferenceSession(value, context);
    const error = await expectRejection(session.run({ x: Tensor.zeros('int32', [2]) }));
    expect(error.code).toBe('DTYPE_MISMATCH');
    expect(log).toEqual([]);
  });

  it('runs one at a time, in the order asked', async () => {
    const wait = gate();
    const { value, log } = adapter({ wait: wait.promise });
    const session = createInferenceSession(value, context);
    const runs = [session.run({ x: x(1) }), session.run({ x: x(2) }), session.run({ x: x(3) })];
    await Promise.resolve();
    wait.open();
    const results = await Promise.all(runs);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    expect(results.map((outputs) => (outputs.y as Tensor).data[0])).toEqual([2, 3, 4]);
  });

  it('turns adapter failures into RUNTIME_ERROR or OUT_OF_MEMORY with the signature, and keeps VideoLlavaErrors as they are', async () => {
    const failing = createInferenceSession(
      adapter({ fail: new Error('Non-zero status code returned while running Add node') }).value,
      context,
    );
    const runtime = await expectRejection(failing.run({ x: x(1) }));
    expect(runtime.code).toBe('RUNTIME_ERROR');
    expect(runtime.message).toContain('Non-zero status code');
    expect(runtime.message).toContain('plus-one.onnx expects x: float32[n]');
    expect(runtime.file).toBe('/models/plus-one.onnx');
    expect((runtime.cause as Error).message).toContain('Non-zero status');

    const memory = createInferenceSession(
      adapter({ fail: new Error('Failed to allocate memory for requested buffer of size 4096') }).value,
      context,
    );
    expect((await expectRejection(memory.run({ x: x(1) }))).code).toBe('OUT_OF_MEMORY');

    const own = new VideoLlavaError('UNSUPPORTED', 'scripted');
    const passing = createInferenceSession(adapter({ fail: own }).value, context);
    expect(await expectRejection(passing.run({ x: x(1) }))).toBe(own);
    // A failed run does not block the queue.
    expect(failing.released).toBe(false);
    expect((await expectRejection(failing.run({ x: x(2) }))).code).toBe('RUNTIME_ERROR');
  });

  it('rejects at once when aborted in flight, and frees the device outputs of the dropped run', async () => {
    const wait = gate();
    const { value, log, disposed } = adapter({ wait: wait.promise });
    const session = createInferenceSession(value, context);
    const controller = new AbortController();
    const pending = session.run({ x: x(1) }, { signal: controller.signal });
    await Promise.resolve();
    controller.abort(new Error('stop'));
    const error = await expectRejection(pending);
    expect(error.code).toBe('ABORTED');
    expect((error.cause as Error).message).toBe('stop');
    expect(log).toEqual(['start 1']);
    wait.open();
    const next = await session.run({ x: x(5) }, { outputs: ['y'] });
    expect([...(next.y as Tensor).data]).toEqual([6, 7]);
    expect(log).toEqual(['start 1', 'end 1', 'start 5', 'end 5']);
    expect(disposed()).toBe(1);
  });

  it('skips a queued run whose signal was aborted before its turn', async () => {
    const wait = gate();
    const { value, log } = adapter({ wait: wait.promise });
    const session = createInferenceSession(value, context);
    const first = session.run({ x: x(1) });
    const controller = new AbortController();
    const second = session.run({ x: x(2) }, { signal: controller.signal });
    controller.abort();
    wait.open();
    await first;
    expect((await expectRejection(second)).code).toBe('ABORTED');
    expect(log).toEqual(['start 1', 'end 1']);
  });

  it('releases once, after the accepted runs, then refuses runs with SESSION_RELEASED', async () => {
    const wait = gate();
    const { value, log } = adapter({ wait: wait.promise });
    const session = createInferenceSession(value, context);
    const pending = session.run({ x: x(1) });
    const released = session.release();
    expect(session.release()).toBe(released);
    expect(session.released).toBe(true);
    const refused = await expectRejection(session.run({ x: x(2) }));
    expect(refused.code).toBe('SESSION_RELEASED');
    expect(refused.field).toBe('session');
    expect(refused.message).toContain('plus-one.onnx was released');
    wait.open();
    await pending;
    await released;
    expect(log).toEqual(['start 1', 'end 1', 'release']);
  });

  it('reports a failed release as RUNTIME_ERROR', async () => {
    const { value } = adapter();
    const session = createInferenceSession(
      {
        ...value,
        release: async () => {
          throw new Error('double free');
        },
      },
      context,
    );
    const error = await expectRejection(session.release());
    expect(error.code).toBe('RUNTIME_ERROR');
    expect(error.message).toContain('double free');
  });

  describe('outputBuffers', () => {
    it('copies the outputs into the buffers of an adapter that cannot write them, device outputs too', async () => {
      const made = adapter();
      const session = createInferenceSession(made.value, context);
      const y = new Tensor('float32', new Float32Array(2), [2]);
      const z = new Tensor('float32', new Float32Array(2), [2]);
      const outputs = await session.run({ x: x(5) }, { outputs: ['y'], outputBuffers: { y, z } });
      expect(outputs.y).toBe(y);
      expect(outputs.z).toBe(z);
      expect([...y.data]).toEqual([6, 7]);
      expect([...z.data]).toEqual([5, 6]);
      // The device output was read into its buffer, then freed.
      expect(made.disposed()).toBe(1);
    });

    it('hands the buffers to an adapter that writes them itself', async () => {
      const seen: Array<Readonly<Record<string, Tensor>> | undefined> = [];
      const made = adapter();
      const writing: SessionAdapter = {
        ...made.value,
        writesOutputBuffers: true,
        async run(feeds, _outputNames, buffers) {
          seen.push(buffers);
          const y = buffers!.y as Tensor<'float32'>;
          y.data.set((feeds.x as Tensor<'float32'>).data.map((item) => item * 10));
          return { y };
        },
      };
      const session = createInferenceSession(writing, context);
      const y = new Tensor('float32', new Float32Array(2), [2]);
      const outputs = await session.run({ x: x(1) }, { outputs: ['y'], outputBuffers: { y } });
      expect(seen).toEqual([{ y }]);
      expect(outputs.y).toBe(y);
      expect([...y.data]).toEqual([10, 20]);
    });

    it('names a buffer for no output, of another dtype or rank, or of dims the run does not produce', async () => {
      const session = createInferenceSession(adapter().value, context);
      const unknown = await expectRejection(
        session.run({ x: x(1) }, { outputBuffers: { w: new Tensor('float32', new Float32Array(2), [2]) } }),
      );
      expect(unknown).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'options.outputBuffers.w' });
      const dtype = await expectRejection(
        session.run({ x: x(1) }, { outputBuffers: { y: new Tensor('int32', new Int32Array(2), [2]) } }),
      );
      expect(dtype).toMatchObject({ code: 'DTYPE_MISMATCH', field: 'options.outputBuffers.y' });
      const rank = await expectRejection(
        session.run({ x: x(1) }, { outputBuffers: { y: new Tensor('float32', new Float32Array(2), [1, 2]) } }),
      );
      expect(rank).toMatchObject({ code: 'DTYPE_MISMATCH', field: 'options.outputBuffers.y' });
      const dims = await expectRejection(
        session.run({ x: x(1) }, { outputBuffers: { y: new Tensor('float32', new Float32Array(3), [3]) } }),
      );
      expect(dims).toMatchObject({ code: 'SHAPE_MISMATCH', field: 'options.outputBuffers.y' });
      expect(dims.message).toContain('float32[2]');
      const plain = await expectRejection(session.run({ x: x(1) }, { outputBuffers: { y: [1, 2] as never } }));
      expect(plain).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'options.outputBuffers.y' });
    });
  });
});

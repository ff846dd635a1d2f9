import { Tensor } from '@video-llava/core';
import { describe, expect, it } from 'vitest';
import { DeviceTensor } from '../device-tensor.js';
import { expectRejection } from '../testing/expect-rejection.js';
import type { OrtSession, OrtTensor } from './onnxruntime-api.js';
import { createOrtInferenceSession } from './create-ort-inference-session.js';

class FakeOrtTensor implements OrtTensor {
  constructor(
    readonly type: string,
    readonly data: unknown,
    readonly dims: readonly number[],
    readonly location = 'cpu',
  ) {}
  async getData(): Promise<unknown> {
    return this.data;
  }
  dispose(): void {}
}

/** An onnxruntime session for `y = x + 1` (float32[n]) that records its calls. */
function fakeSession(outputLocation = 'cpu') {
  const calls: string[] = [];
  const session: OrtSession = {
    inputMetadata: [{ name: 'x', isTensor: true, type: 'float32', shape: ['n'] }],
    outputMetadata: [{ name: 'y', isTensor: true, type: 'float32', shape: ['n'] }],
    outputNames: ['y'],
    async run(feeds, fetches) {
      calls.push(`run ${Object.keys(feeds).join(',')} -> ${fetches.join(',')}`);
      const x = feeds.x as FakeOrtTensor;
      return {
        y: new FakeOrtTensor(
          'float32',
          (x.data as Float32Array).map((value) => value + 1),
          x.dims,
          outputLocation,
        ),
      };
    },
    async release() {
      calls.push('release');
    },
  };
  return { session, calls };
}

const description = { model: 'plus-one.onnx', file: '/models/plus-one.onnx' };

describe('createOrtInferenceSession', () => {
  it('reads the metadata and runs through onnxruntime tensors', async () => {
    const { session, calls } = fakeSession();
    const created = await createOrtInferenceSession({ Tensor: FakeOrtTensor }, session, {
      backend: 'test',
      provider: { name: 'cpu' },
      sessionOptions: {},
      description,
    });
    expect(created.executionProvider).toBe('cpu');
    expect(created.inputMetadata).toEqual([{ name: 'x', dtype: 'float32', shape: ['n'] }]);
    const { y } = await created.run({ x: new Tensor('float32', Float32Array.from([1, 2]), [2]) });
    expect([...(y as Tensor).data]).toEqual([2, 3]);
    await created.release();
    expect(calls).toEqual(['run x -> y', 'release']);
  });

  it('returns device tensors for outputs asked to stay on the device', async () => {
    const { session } = fakeSession('gpu-buffer');
    const created = await createOrtInferenceSession({ Tensor: FakeOrtTensor }, session, {
      backend: 'test',
      provider: 'webgpu',
      sessionOptions: { outputLocation: 'device' },
      description,
    });
    const { y } = await created.run({ x: new Tensor('float32', Float32Array.from([1]), [1]) });
    expect(DeviceTensor.isInstance(y)).toBe(true);
    expect((y as DeviceTensor).device).toBe('webgpu');
    expect([...(await (y as DeviceTensor).download()).data]).toEqual([2]);
  });

  it('releases the onnxruntime session when the load was aborted or names an unknown output', async () => {
    const aborted = fakeSession();
    const controller = new AbortController();
    controller.abort();
    const abortError = await expectRejection(
      createOrtInferenceSession({ Tensor: FakeOrtTensor }, aborted.session, {
        backend: 'test',
        provider: 'cpu',
        sessionOptions: { signal: controller.signal },
        description,
      }),
    );
    expect(abortError.code).toBe('ABORTED');
    expect(aborted.calls).toEqual(['release']);
    const unknown = fakeSession();
    const unknownError = await expectRejection(
      createOrtInferenceSession({ Tensor: FakeOrtTensor }, unknown.session, {
        backend: 'test',
        provider: 'cpu',
        sessionOptions: { outputLocation: { z: 'device' } },
        description,
      }),
    );
    expect(unknownError.field).toBe('options.outputLocation.z');
    expect(unknown.calls).toEqual(['release']);
  });
});

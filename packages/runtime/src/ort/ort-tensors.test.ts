import { Tensor } from '@video-llava/core';
import { describe, expect, it } from 'vitest';
import { DeviceTensor } from '../device-tensor.js';
import type { OrtTensor } from './onnxruntime-api.js';
import { fromOrtTensor, toDeviceTensor, toOrtTensor } from './ort-tensors.js';

/** A stand-in for onnxruntime's Tensor: what the helpers read, and whether it was disposed. */
class FakeOrtTensor implements OrtTensor {
  disposed = false;
  constructor(
    readonly type: string,
    readonly data: unknown,
    readonly dims: readonly number[],
    readonly location: string = 'cpu',
  ) {}
  async getData(): Promise<unknown> {
    return this.data;
  }
  dispose(): void {
    this.disposed = true;
  }
}

describe('toOrtTensor', () => {
  it('wraps a CPU tensor without copying, and hands back the handle of a device tensor', () => {
    const tensor = new Tensor('float32', Float32Array.from([1, 2]), [1, 2]);
    const wrapped = toOrtTensor({ Tensor: FakeOrtTensor }, tensor) as FakeOrtTensor;
    expect(wrapped).toBeInstanceOf(FakeOrtTensor);
    expect([wrapped.type, wrapped.data, wrapped.dims]).toEqual(['float32', tensor.data, [1, 2]]);
    expect(wrapped.data).toBe(tensor.data);
    const handle = new FakeOrtTensor('float32', tensor.data, [1, 2], 'gpu-buffer');
    const device = new DeviceTensor({
      dtype: 'float32',
      dims: [1, 2],
      device: 'webgpu',
      backend: 'test',
      handle,
      download: async () => tensor,
    });
    expect(toOrtTensor({ Tensor: FakeOrtTensor }, device)).toBe(handle);
  });
});

describe('fromOrtTensor', () => {
  it('keeps the data as a view: float16 as raw bits, bool as bytes', () => {
    const float32 = Float32Array.from([1.5]);
    expect(fromOrtTensor(new FakeOrtTensor('float32', float32, [1]), 'y').data).toBe(float32);
    const bits = Uint16Array.from([0x3c00, 0xc000]);
    const float16 = fromOrtTensor(new FakeOrtTensor('float16', new Int16Array(bits.buffer), [2]), 'h');
    expect(float16.data).toBeInstanceOf(Uint16Array);
    expect(float16.data.buffer).toBe(bits.buffer);
    expect([...float16.data]).toEqual([0x3c00, 0xc000]);
    const bool = fromOrtTensor(new FakeOrtTensor('bool', Int8Array.from([1, 0, 1]), [3]), 'flag');
    expect(bool.data).toBeInstanceOf(Uint8Array);
    expect([...bool.data]).toEqual([1, 0, 1]);
  });

  it('refuses an element type video-llava.js tensors cannot hold, naming the output', () => {
    expect(() => fromOrtTensor(new FakeOrtTensor('float64', new Float64Array(1), [1]), 'y')).toThrow(
      'output "y" has type float64',
    );
  });
});

describe('toDeviceTensor', () => {
  it('names the device of a GPU buffer webgpu, downloads it and disposes the onnxruntime value', async () => {
    const value = new FakeOrtTensor('float32', Float32Array.from([3, 4]), [2], 'gpu-buffer');
    const device = toDeviceTensor(value, 'present', 'test-backend');
    expect([device.device, device.backend, device.dtype, device.dims]).toEqual([
      'webgpu',
      'test-backend',
      'float32',
      [2],
    ]);
    expect(device.handle).toBe(value);
    expect([...(await device.download()).data]).toEqual([3, 4]);
    device.dispose();
    expect(value.disposed).toBe(true);
  });

  it('reports host memory as the cpu device', async () => {
    expect(
      toDeviceTensor(new FakeOrtTensor('int64', BigInt64Array.from([1n]), [1], 'cpu-pinned'), 'ids', 'test').device,
    ).toBe('cpu');
    expect(
      toDeviceTensor(new FakeOrtTensor('int64', BigInt64Array.from([1n]), [1], 'ml-tensor'), 'ids', 'test').device,
    ).toBe('ml-tensor');
  });
});

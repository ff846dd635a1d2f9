import { Tensor, VideoLlavaError } from '@video-llava/core';
import { describe, expect, it } from 'vitest';
import { describeModelFile } from './describe-model-file.js';
import { DeviceTensor } from './device-tensor.js';
import { isCpuTensor, toCpuTensor } from './runtime-tensor.js';

function make(): { tensor: DeviceTensor<'float32'>; disposals: () => number; cpu: Tensor<'float32'> } {
  const cpu = new Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [1, 2, 3]);
  let disposals = 0;
  const tensor = new DeviceTensor({
    dtype: 'float32',
    dims: [1, 2, 3],
    device: 'webgpu',
    backend: 'test',
    handle: { buffer: 7 },
    download: async () => cpu,
    dispose: () => {
      disposals++;
    },
  });
  return { tensor, disposals: () => disposals, cpu };
}

describe('DeviceTensor', () => {
  it('describes itself and hands its handle to the backend', async () => {
    const { tensor, cpu } = make();
    expect(tensor.location).toBe('device');
    expect(tensor.size).toBe(6);
    expect(tensor.rank).toBe(3);
    expect(Object.isFrozen(tensor.dims)).toBe(true);
    expect(tensor.toString()).toBe('float32[1,2,3]@webgpu');
    expect(tensor.handle).toEqual({ buffer: 7 });
    expect(await tensor.download()).toBe(cpu);
  });

  it('is recognised across copies by its marker, and is not a CPU tensor', () => {
    const { tensor } = make();
    expect(DeviceTensor.isInstance(tensor)).toBe(true);
    expect(DeviceTensor.isInstance({ [Symbol.for('@video-llava/device-tensor')]: true })).toBe(true);
    expect(DeviceTensor.isInstance(Tensor.zeros('float32', [1]))).toBe(false);
    expect(DeviceTensor.isInstance(null)).toBe(false);
    expect(isCpuTensor(tensor)).toBe(false);
  });

  it('disposes once, then refuses to be used or downloaded', async () => {
    const { tensor, disposals } = make();
    tensor.dispose();
    tensor.dispose();
    expect(disposals()).toBe(1);
    expect(tensor.disposed).toBe(true);
    expect(() => tensor.handle).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', actual: 'disposed' }));
    const error = await tensor.download().catch((caught: unknown) => caught);
    expect(VideoLlavaError.isInstance(error) && error.code).toBe('INVALID_ARGUMENT');
    expect((error as Error).message).toContain('float32[1,2,3]@webgpu was disposed');
  });
});

describe('isCpuTensor and toCpuTensor', () => {
  it('accepts core tensors and look-alikes with the matching typed array, nothing else', () => {
    expect(isCpuTensor(Tensor.zeros('int64', [2]))).toBe(true);
    expect(isCpuTensor({ dtype: 'float16', dims: [2], data: new Uint16Array(2) })).toBe(true);
    expect(isCpuTensor({ dtype: 'float16', dims: [2], data: new Float32Array(2) })).toBe(false);
    expect(isCpuTensor({ dtype: 'float64', dims: [2], data: new Float64Array(2) })).toBe(false);
    expect(isCpuTensor({ dtype: 'float32', dims: '2', data: new Float32Array(2) })).toBe(false);
    expect(isCpuTensor(undefined)).toBe(false);
  });

  it('returns CPU tensors as they are and downloads device tensors', async () => {
    const plain = Tensor.zeros('int32', [3]);
    expect(await toCpuTensor(plain)).toBe(plain);
    const { tensor, cpu } = make();
    expect(await toCpuTensor(tensor)).toBe(cpu);
  });
});

describe('describeModelFile', () => {
  it('names paths and URLs by their file name and keeps the whole as file', () => {
    expect(describeModelFile('/models/onnx/decoder_model_merged.onnx')).toEqual({
      model: 'decoder_model_merged.onnx',
      file: '/models/onnx/decoder_model_merged.onnx',
    });
    expect(describeModelFile('C:\\models\\embed_tokens.onnx').model).toBe('embed_tokens.onnx');
    const url = new URL('https://example.com/org/model/resolve/main/onnx/vision.onnx?download=true#x');
    expect(describeModelFile(url)).toEqual({ model: 'vision.onnx', file: url.href });
  });

  it('names bytes by their size, without a file', () => {
    expect(describeModelFile(new Uint8Array(12))).toEqual({ model: 'the model bytes (12 bytes)' });
    expect(describeModelFile(new ArrayBuffer(3))).toEqual({ model: 'the model bytes (3 bytes)' });
  });
});

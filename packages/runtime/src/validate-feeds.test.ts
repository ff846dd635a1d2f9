import { Tensor, VideoLlavaError } from '@video-llava/core';
import { describe, expect, it } from 'vitest';
import { DeviceTensor } from './device-tensor.js';
import { validateFeeds } from './validate-feeds.js';
import { type ValueMetadata, formatSignature, formatType, formatValueMetadata } from './value-metadata.js';

const inputs: ValueMetadata[] = [
  { name: 'input_ids', dtype: 'int64', shape: ['batch', 'sequence'] },
  { name: 'pixel_values', dtype: 'float32', shape: ['batch', 3, 4, 4] },
  { name: 'scale', dtype: 'float32', shape: [] },
];
const context = { model: 'encoder.onnx', file: '/models/encoder.onnx', backend: 'onnxruntime-node' };
const signature = 'input_ids: int64[batch, sequence], pixel_values: float32[batch, 3, 4, 4], scale: float32[]';

function validFeeds(): Record<string, unknown> {
  return {
    input_ids: new Tensor('int64', BigInt64Array.from([1n, 2n, 3n]), [1, 3]),
    pixel_values: Tensor.zeros('float32', [1, 3, 4, 4]),
    scale: new Tensor('float32', Float32Array.from([2]), []),
  };
}

function failure(feeds: unknown): VideoLlavaError {
  try {
    validateFeeds(feeds, inputs, context);
  } catch (error) {
    if (VideoLlavaError.isInstance(error)) return error;
    throw error;
  }
  return expect.fail('validateFeeds accepted the feeds');
}

function deviceTensor(backend: string): DeviceTensor {
  const cpu = Tensor.zeros('float32', [2, 3, 4, 4]);
  return new DeviceTensor({
    dtype: 'float32',
    dims: cpu.dims,
    device: 'webgpu',
    backend,
    handle: cpu,
    download: async () => cpu,
  });
}

describe('formatting signatures', () => {
  it('writes values as name: dtype[dims]', () => {
    expect(formatType('float16', ['batch', 8])).toBe('float16[batch, 8]');
    expect(formatValueMetadata(inputs[0]!)).toBe('input_ids: int64[batch, sequence]');
    expect(formatSignature(inputs)).toBe(signature);
    expect(formatSignature([])).toBe('(none)');
  });
});

describe('validateFeeds', () => {
  it('accepts feeds that match: any size for symbolic dimensions, any rank for an undeclared shape', () => {
    expect(() => validateFeeds(validFeeds(), inputs, context)).not.toThrow();
    const other = {
      ...validFeeds(),
      input_ids: new Tensor('int64', new BigInt64Array(0), [4, 0]),
      pixel_values: deviceTensor(context.backend),
      scale: Tensor.zeros('float32', [2, 2]),
    };
    expect(() => validateFeeds(other, inputs, context)).not.toThrow();
  });

  it('refuses feeds that are not an object', () => {
    for (const feeds of [undefined, null, [validFeeds().input_ids], 'input_ids']) {
      const error = failure(feeds);
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.field).toBe('feeds');
    }
  });

  it('names an unknown feed, lists the known names and shows the signature', () => {
    const error = failure({ ...validFeeds(), attention_mask: Tensor.zeros('int64', [1, 3]) });
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.field).toBe('feeds.attention_mask');
    expect(error.file).toBe('/models/encoder.onnx');
    expect(error.expected).toEqual(['input_ids', 'pixel_values', 'scale']);
    expect(error.actual).toBe('attention_mask');
    expect(error.message).toBe(
      `Unknown input "attention_mask" fed to encoder.onnx. encoder.onnx expects ${signature}.`,
    );
  });

  it('names a missing feed with its type', () => {
    const { scale: _scale, ...feeds } = validFeeds();
    const error = failure(feeds);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.field).toBe('feeds.scale');
    expect(error.expected).toBe('float32[]');
    expect(error.message).toContain('Missing input "scale" (float32[])');
  });

  it('refuses a value that is not a tensor', () => {
    const error = failure({ ...validFeeds(), pixel_values: [[1, 2, 3]] });
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.field).toBe('feeds.pixel_values');
    expect(error.message).toContain('must be a Tensor or a DeviceTensor');
  });

  it('DTYPE_MISMATCH shows the dtype and dims found and the signature', () => {
    const error = failure({ ...validFeeds(), input_ids: new Tensor('int32', Int32Array.from([1, 2, 3]), [1, 3]) });
    expect(error.code).toBe('DTYPE_MISMATCH');
    expect(error.field).toBe('feeds.input_ids');
    expect(error.expected).toBe('int64[batch, sequence]');
    expect(error.actual).toBe('int32[1, 3]');
    expect(error.message).toContain('its dtype must be int64');
    expect(error.message).toContain(signature);
  });

  it('SHAPE_MISMATCH for a wrong rank', () => {
    const error = failure({ ...validFeeds(), input_ids: new Tensor('int64', BigInt64Array.from([1n, 2n, 3n]), [3]) });
    expect(error.code).toBe('SHAPE_MISMATCH');
    expect(error.field).toBe('feeds.input_ids');
    expect(error.actual).toBe('int64[3]');
    expect(error.message).toContain('rank 1; expected rank 2 (int64[batch, sequence])');
    expect(error.message).toContain(signature);
  });

  it('SHAPE_MISMATCH for a wrong fixed dimension, naming the axis', () => {
    const error = failure({ ...validFeeds(), pixel_values: Tensor.zeros('float32', [1, 3, 4, 5]) });
    expect(error.code).toBe('SHAPE_MISMATCH');
    expect(error.field).toBe('feeds.pixel_values');
    expect(error.expected).toBe('float32[batch, 3, 4, 4]');
    expect(error.actual).toBe('float32[1, 3, 4, 5]');
    expect(error.message).toContain('dimension 3 must be 4');
  });

  it('SHAPE_MISMATCH for a tensor-like value whose data does not fill its dims', () => {
    const error = failure({
      ...validFeeds(),
      input_ids: { dtype: 'int64', dims: [1, 4], data: BigInt64Array.from([1n, 2n, 3n]) },
    });
    expect(error.code).toBe('SHAPE_MISMATCH');
    expect(error.expected).toBe(4);
    expect(error.actual).toBe(3);
  });

  it('refuses device tensors of another backend and disposed ones', () => {
    const foreign = failure({ ...validFeeds(), pixel_values: deviceTensor('onnxruntime-web') });
    expect(foreign.code).toBe('INVALID_ARGUMENT');
    expect(foreign.expected).toBe('onnxruntime-node');
    expect(foreign.actual).toBe('onnxruntime-web');
    const disposed = deviceTensor(context.backend);
    disposed.dispose();
    const error = failure({ ...validFeeds(), pixel_values: disposed });
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.actual).toBe('disposed');
  });

  it('refuses device tensors on a device the session cannot read, and takes those in host memory', () => {
    const onGpu = deviceTensor(context.backend);
    const wasm = { ...context, devices: [] };
    let caught: unknown;
    try {
      validateFeeds({ ...validFeeds(), pixel_values: onGpu }, inputs, wasm);
    } catch (error) {
      caught = error;
    }
    expect(VideoLlavaError.isInstance(caught) && caught.code).toBe('INVALID_ARGUMENT');
    expect((caught as VideoLlavaError).field).toBe('feeds.pixel_values');
    expect((caught as VideoLlavaError).actual).toBe('webgpu');
    expect((caught as VideoLlavaError).message).toContain(
      'is a device tensor on webgpu (float32[2,3,4,4]@webgpu); this session takes no device tensors but those in host memory',
    );
    expect(() =>
      validateFeeds({ ...validFeeds(), pixel_values: onGpu }, inputs, { ...context, devices: ['webgpu'] }),
    ).not.toThrow();
    const cpu = Tensor.zeros('float32', [1, 3, 4, 4]);
    const inHostMemory = new DeviceTensor({
      dtype: 'float32',
      dims: cpu.dims,
      device: 'cpu',
      backend: context.backend,
      handle: cpu,
      download: async () => cpu,
    });
    expect(() => validateFeeds({ ...validFeeds(), pixel_values: inHostMemory }, inputs, wasm)).not.toThrow();
  });

  it('leaves out the file when the model has none (bytes)', () => {
    let caught: unknown;
    try {
      validateFeeds({}, inputs, { model: 'the model bytes (12 bytes)', backend: 'mock' });
    } catch (error) {
      caught = error;
    }
    expect(VideoLlavaError.isInstance(caught)).toBe(true);
    expect((caught as VideoLlavaError).file).toBeUndefined();
    expect((caught as VideoLlavaError).message).toContain('the model bytes (12 bytes) expects');
  });
});

import { type DataType, Tensor, type TypedArrayFor, isDataType } from '@video-llava/core';
import { DeviceTensor } from '../device-tensor.js';
import type { RuntimeTensor } from '../runtime-tensor.js';
import type { OnnxruntimeModule, OrtTensor } from './onnxruntime-api.js';

/** A feed as onnxruntime takes it: a CPU tensor wraps its typed array (no copy); a device tensor gives back its handle. */
export function toOrtTensor(ort: Pick<OnnxruntimeModule, 'Tensor'>, value: RuntimeTensor): OrtTensor {
  if (DeviceTensor.isInstance(value)) return value.handle as OrtTensor;
  const tensor = value as Tensor;
  return new ort.Tensor(tensor.dtype, tensor.data as never, tensor.dims);
}

/**
 * Our tensors' storage for onnxruntime's data (a view, no copy): float16 may come back as a `Float16Array` where
 * the platform has one, and bool as another byte array; our tensors keep the raw bits and 0/1 bytes.
 */
function asStorage(dtype: DataType, data: unknown): TypedArrayFor<DataType> {
  if (dtype === 'float16' && !(data instanceof Uint16Array)) {
    const view = data as ArrayBufferView & { length: number };
    return new Uint16Array(view.buffer, view.byteOffset, view.length);
  }
  if (dtype === 'bool' && !(data instanceof Uint8Array)) {
    const view = data as ArrayBufferView;
    return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  }
  return data as TypedArrayFor<DataType>;
}

function checkDataType(type: string, name: string): DataType {
  if (!isDataType(type))
    throw new Error(`output ${JSON.stringify(name)} has type ${type}, which video-llava.js tensors cannot hold`);
  return type;
}

/**
 * A CPU output of onnxruntime as a core tensor (no copy).
 * @throws Error for an element type video-llava.js tensors cannot hold (the session turns it into `RUNTIME_ERROR`)
 */
export function fromOrtTensor(value: OrtTensor, name: string): Tensor {
  const dtype = checkDataType(value.type, name);
  return new Tensor(dtype, asStorage(dtype, value.data), value.dims);
}

/**
 * An output to keep on the device, as a device tensor owning the onnxruntime value (a GPU buffer under WebGPU;
 * `device` is `'cpu'` where the execution provider left it in host memory).
 */
export function toDeviceTensor(value: OrtTensor, name: string, backend: string): DeviceTensor {
  const dtype = checkDataType(value.type, name);
  const onDevice = value.location !== 'cpu' && value.location !== 'cpu-pinned';
  return new DeviceTensor({
    dtype,
    dims: value.dims,
    device: onDevice ? (value.location === 'gpu-buffer' ? 'webgpu' : value.location) : 'cpu',
    backend,
    handle: value,
    download: async () =>
      onDevice ? new Tensor(dtype, asStorage(dtype, await value.getData()), value.dims) : fromOrtTensor(value, name),
    dispose: () => value.dispose(),
  });
}

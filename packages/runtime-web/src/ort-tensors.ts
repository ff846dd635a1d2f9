import { type DataType, Tensor, type TypedArrayFor, isDataType } from '@video-llava/core';
import { DeviceTensor, type RuntimeTensor } from '@video-llava/runtime';
import type { OnnxruntimeWeb } from './load-onnxruntime-web.js';

type OrtTensor = InstanceType<OnnxruntimeWeb['Tensor']>;

/** A feed as onnxruntime-web takes it: a CPU tensor wraps its typed array (no copy); a device tensor gives back its handle. */
export function toOrtTensor(ort: OnnxruntimeWeb, value: RuntimeTensor): OrtTensor {
  if (DeviceTensor.isInstance(value)) return value.handle as OrtTensor;
  const tensor = value as Tensor;
  return new ort.Tensor(tensor.dtype, tensor.data as never, tensor.dims);
}

/** Browsers with `Float16Array` get float16 outputs as one; our tensors keep the raw bits (a view, no copy). */
function asStorage(dtype: DataType, data: unknown): TypedArrayFor<DataType> {
  if (dtype === 'float16' && !(data instanceof Uint16Array)) {
    const view = data as ArrayBufferView & { length: number };
    return new Uint16Array(view.buffer, view.byteOffset, view.length);
  }
  return data as TypedArrayFor<DataType>;
}

function checkDataType(type: string, name: string): DataType {
  if (!isDataType(type)) throw new Error(`output ${JSON.stringify(name)} has type ${type}, which video-llava.js tensors cannot hold`);
  return type;
}

/** A CPU output of onnxruntime-web as a core tensor (no copy). */
export function fromOrtTensor(value: OrtTensor, name: string): Tensor {
  const dtype = checkDataType(value.type, name);
  return new Tensor(dtype, asStorage(dtype, value.data), value.dims);
}

/** An output to keep on the device, as a device tensor owning the onnxruntime value (a GPU buffer under WebGPU). */
export function toDeviceTensor(value: OrtTensor, name: string, backend: string): DeviceTensor {
  const dtype = checkDataType(value.type, name);
  const onDevice = value.location !== 'cpu' && value.location !== 'cpu-pinned';
  return new DeviceTensor({
    dtype,
    dims: value.dims,
    device: onDevice ? (value.location === 'gpu-buffer' ? 'webgpu' : value.location) : 'cpu',
    backend,
    handle: value,
    download: async () => (onDevice ? new Tensor(dtype, asStorage(dtype, await value.getData()), value.dims) : fromOrtTensor(value, name)),
    dispose: () => value.dispose(),
  });
}

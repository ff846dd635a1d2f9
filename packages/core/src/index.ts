export { VIDEO_LLAVA_ERROR_CODES, VideoLlavaError, describeValue } from './errors.js';
export type { VideoLlavaErrorCode, VideoLlavaErrorDetails } from './errors.js';
export {
  DATA_TYPES,
  allocateTypedArray,
  bfloat16BitsToNumber,
  bfloat16ToFloat32,
  bytesPerElement,
  float16BitsToNumber,
  float16ToFloat32,
  float32ToFloat16,
  isDataType,
  isTypedArrayFor,
  numberToFloat16Bits,
} from './dtype.js';
export type { DataType, DataTypeArrayMap, TypedArrayFor } from './dtype.js';
export { Tensor, elementCount, stackTensors } from './tensor.js';
export type { Dims } from './tensor.js';
export { throwIfAborted } from './abort.js';
export type { ProgressEvent, ProgressCallback } from './progress.js';
export type { VideoLlavaWarning, VideoLlavaWarningCode, WarningCallback } from './warning.js';

import { type DataType, Tensor, VideoLlavaError, float16ToFloat32, float32ToFloat16 } from '@video-llava/core';
import type { InferenceSession } from '@video-llava/runtime';

/** The declared dtype of a session input (`float32` when the session does not say). */
export function inputDtype(session: InferenceSession, name: string): DataType | string {
  return session.inputMetadata.find((value) => value.name === name)?.dtype ?? 'float32';
}

/**
 * A float32 tensor as the session input `name` wants it: unchanged for float32, converted for float16 (files of
 * other exporters take float16 pixels or embeddings).
 *
 * @throws VideoLlavaError `DTYPE_MISMATCH` when the input takes neither float32 nor float16
 */
export function toSessionFloat(
  session: InferenceSession,
  name: string,
  tensor: Tensor<'float32'>,
  file: string,
): Tensor<'float32'> | Tensor<'float16'> {
  const dtype = inputDtype(session, name);
  if (dtype === 'float32') return tensor;
  if (dtype === 'float16') return new Tensor('float16', float32ToFloat16(tensor.data), tensor.dims);
  throw new VideoLlavaError(
    'DTYPE_MISMATCH',
    `${file}: input ${name} is ${dtype}; the model feeds it float32 or float16.`,
    { file, field: name, expected: 'float32 or float16', actual: dtype },
  );
}

/**
 * A session output as float32 (float16 outputs are widened).
 *
 * @throws VideoLlavaError `DTYPE_MISMATCH` for any other dtype
 */
export function toFloat32(tensor: Tensor, file: string, name: string): Tensor<'float32'> {
  if (tensor.dtype === 'float32') return tensor as Tensor<'float32'>;
  if (tensor.dtype === 'float16')
    return new Tensor('float32', float16ToFloat32(tensor.data as Uint16Array), tensor.dims);
  throw new VideoLlavaError(
    'DTYPE_MISMATCH',
    `${file}: output ${name} is ${tensor.dtype}; the model reads float32 or float16.`,
    { file, field: name, expected: 'float32 or float16', actual: tensor.dtype },
  );
}

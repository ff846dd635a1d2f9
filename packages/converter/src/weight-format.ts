import { VideoLlavaError } from '@video-llava/core';

/**
 * How weights are stored:
 * - `fp32`: float32 weights, float32 compute.
 * - `fp16`: float16 weights and float16 compute (normalizations, softmax and rotary tables in float32); inputs
 *   and outputs stay float32 so every variant has the same interface.
 * - `q8`: linear layers as 8-bit blocks (`MatMulNBits`, com.microsoft), embeddings as int8 rows; float32 compute.
 * - `q4`: linear layers as 4-bit blocks (`MatMulNBits`), embeddings as int8 rows; float32 compute.
 */
export type WeightFormat = 'fp32' | 'fp16' | 'q8' | 'q4';

/** All weight formats. */
export const WEIGHT_FORMATS: readonly WeightFormat[] = ['fp32', 'fp16', 'q8', 'q4'];

/** The file-name suffix of each format (`decoder_model_merged_q4.onnx`); fp32 has none. */
export const WEIGHT_FORMAT_SUFFIXES: Readonly<Record<WeightFormat, string>> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_q8',
  q4: '_q4',
};

/** Checks a format name (e.g. from the command line). */
export function parseWeightFormat(value: string, field = 'dtype'): WeightFormat {
  if ((WEIGHT_FORMATS as readonly string[]).includes(value)) return value as WeightFormat;
  throw new VideoLlavaError(
    'INVALID_ARGUMENT',
    `${field} must be one of ${WEIGHT_FORMATS.join(', ')}, found ${JSON.stringify(value)}.`,
    {
      field,
      expected: WEIGHT_FORMATS,
      actual: value,
    },
  );
}

/** The ONNX model parts of the contract. */
export type ModelPart = 'image_encoder' | 'video_encoder' | 'embed_tokens' | 'decoder_model_merged';

/** All parts, in the order they are converted. */
export const MODEL_PARTS: readonly ModelPart[] = [
  'embed_tokens',
  'image_encoder',
  'video_encoder',
  'decoder_model_merged',
];

/** `onnx/<part><suffix>.onnx`. */
export function onnxFileName(part: ModelPart, format: WeightFormat): string {
  return `${part}${WEIGHT_FORMAT_SUFFIXES[format]}.onnx`;
}

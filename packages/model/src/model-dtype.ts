import { VideoLlavaError } from '@video-llava/core';

/**
 * Which variant of an ONNX part to load, by file-name suffix: `fp32` is `<part>.onnx`, any other is
 * `<part>_<dtype>.onnx` (`decoder_model_merged_q4.onnx`), the naming of the converter and of the Hugging Face
 * JavaScript ecosystem (`q4f16`, `int8`, `uint8`, `bnb4`, `quantized` come from other exporters).
 */
export type ModelDtype = 'fp32' | 'fp16' | 'q8' | 'q4' | 'q4f16' | 'int8' | 'uint8' | 'bnb4' | 'quantized';

/** Every {@link ModelDtype}. */
export const MODEL_DTYPES: readonly ModelDtype[] = [
  'fp32',
  'fp16',
  'q8',
  'q4',
  'q4f16',
  'int8',
  'uint8',
  'bnb4',
  'quantized',
];

/** The four ONNX files of a converted Video-LLaVA (see the model contract in ARCHITECTURE.md). */
export type ModelPart = 'image_encoder' | 'video_encoder' | 'embed_tokens' | 'decoder_model_merged';

/** Every {@link ModelPart}. */
export const MODEL_PARTS: readonly ModelPart[] = [
  'embed_tokens',
  'image_encoder',
  'video_encoder',
  'decoder_model_merged',
];

/** One dtype for every part, or one per part (parts left out use `fp32`). */
export type ModelDtypeChoice = ModelDtype | Partial<Readonly<Record<ModelPart, ModelDtype>>>;

function checkDtype(value: unknown, field: string): ModelDtype {
  if (typeof value === 'string' && (MODEL_DTYPES as readonly string[]).includes(value)) return value as ModelDtype;
  throw new VideoLlavaError(
    'INVALID_ARGUMENT',
    `${field} must be one of ${MODEL_DTYPES.join(', ')}, found ${JSON.stringify(value)}.`,
    {
      field,
      expected: MODEL_DTYPES,
      actual: value,
    },
  );
}

/**
 * The dtype of each part from a {@link ModelDtypeChoice}.
 * @throws VideoLlavaError `INVALID_ARGUMENT` for an unknown dtype or part name
 */
export function resolveModelDtypes(choice: ModelDtypeChoice | undefined): Record<ModelPart, ModelDtype> {
  if (choice === undefined || typeof choice === 'string') {
    const dtype = checkDtype(choice ?? 'fp32', 'dtype');
    return { embed_tokens: dtype, image_encoder: dtype, video_encoder: dtype, decoder_model_merged: dtype };
  }
  if (typeof choice !== 'object' || choice === null) checkDtype(choice, 'dtype');
  const result: Record<ModelPart, ModelDtype> = {
    embed_tokens: 'fp32',
    image_encoder: 'fp32',
    video_encoder: 'fp32',
    decoder_model_merged: 'fp32',
  };
  for (const [part, dtype] of Object.entries(choice)) {
    if (!(MODEL_PARTS as readonly string[]).includes(part)) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `dtype.${part} is not a model part; the parts are ${MODEL_PARTS.join(', ')}.`,
        {
          field: `dtype.${part}`,
          expected: MODEL_PARTS,
          actual: part,
        },
      );
    }
    result[part as ModelPart] = checkDtype(dtype, `dtype.${part}`);
  }
  return result;
}

/** `onnx/<part>.onnx` for fp32, else `onnx/<part>_<dtype>.onnx`. */
export function modelFilePath(part: ModelPart, dtype: ModelDtype): string {
  return `onnx/${part}${dtype === 'fp32' ? '' : `_${dtype}`}.onnx`;
}

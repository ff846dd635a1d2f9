import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MODEL_DTYPES, MODEL_PARTS, type ModelDtype, type ModelPart } from '@video-llava/model';

/** One ONNX file of a model folder: a part in one dtype. */
export interface OnnxVariant {
  part: ModelPart;
  dtype: ModelDtype;
  /** The file name inside `onnx/` (`decoder_model_merged_q4.onnx`). */
  file: string;
  /** Its size in bytes, with its external data files. */
  bytes: number;
  /** Its external data files (`decoder_model_merged.onnx_data`, `..._1`, ...), by name inside `onnx/`. */
  externalData: string[];
}

const VARIANT_NAME = new RegExp(`^(${MODEL_PARTS.join('|')})(?:_(${MODEL_DTYPES.join('|')}))?\\.onnx$`);

/**
 * The ONNX variants in `<folder>/onnx`, by part, in the order of `MODEL_DTYPES` (fp32 first). External data is the
 * files beside a model whose names continue its own (`x.onnx_data`, `x.onnx_data_1`, `x.onnx.data`). A folder
 * without `onnx/` holds none.
 */
export function listOnnxVariants(folder: string): Record<ModelPart, OnnxVariant[]> {
  const onnxFolder = join(folder, 'onnx');
  const result = Object.fromEntries(MODEL_PARTS.map((part) => [part, [] as OnnxVariant[]])) as Record<
    ModelPart,
    OnnxVariant[]
  >;
  let names: string[];
  try {
    names = readdirSync(onnxFolder);
  } catch {
    return result;
  }
  const size = (name: string): number => statSync(join(onnxFolder, name)).size;
  for (const name of names) {
    const match = VARIANT_NAME.exec(name);
    if (!match) continue;
    const externalData = names
      .filter((other) => other.startsWith(`${name}_data`) || other.startsWith(`${name}.data`))
      .sort();
    result[match[1] as ModelPart].push({
      part: match[1] as ModelPart,
      dtype: (match[2] ?? 'fp32') as ModelDtype,
      file: name,
      bytes: size(name) + externalData.reduce((sum, file) => sum + size(file), 0),
      externalData,
    });
  }
  for (const part of MODEL_PARTS)
    result[part].sort((a, b) => MODEL_DTYPES.indexOf(a.dtype) - MODEL_DTYPES.indexOf(b.dtype));
  return result;
}

export { INT8_CACHE_DECODER_STEM, KV_BUFFER_DECODER_STEM, buildModelPart } from './build-part.js';
export type { BuildPartOptions, BuiltPart } from './build-part.js';
export {
  CHECKPOINT_LAYOUTS,
  CHECKPOINT_LAYOUT_PREFIXES,
  canonicalName,
  candidateNames,
  checkpointName,
} from './checkpoint-layout.js';
export type { CheckpointLayout } from './checkpoint-layout.js';
export { expectedTensors, visionLayersNeeded } from './expected-tensors.js';
export type { ExpectedTensor } from './expected-tensors.js';
export { decodeFloat16, decodeFloats, encodeFloat16 } from './float-conversion.js';
export { INT8_CACHE_SCALE_MARGIN, buildDecoder, rotaryCaches, rotaryInverseFrequencies } from './graph/decoder.js';
export type { DecoderGraphOptions } from './graph/decoder.js';
export { buildEmbedTokens } from './graph/embed-tokens.js';
export { buildVisionEncoder } from './graph/vision-encoder.js';
export type { VisionInput } from './graph/vision-encoder.js';
export { activation, layerNorm, rmsNorm } from './graph/layers.js';
export type { FloatType } from './graph/layers.js';
export { DEFAULT_BLOCK_SIZE, checkBlockSize, quantizeBlockwise, quantizeRowsInt8 } from './quantize.js';
export type { BlockQuantizedRows, RowQuantized } from './quantize.js';
export {
  SAFETENSORS_DTYPE_BYTES,
  SAFETENSORS_MAX_HEADER_BYTES,
  parseSafetensorsHeader,
  readSafetensorsHeaderLength,
} from './safetensors-header.js';
export type { SafetensorsFloatType, SafetensorsHeader, SafetensorsTensorInfo } from './safetensors-header.js';
export { validateCheckpoint } from './validate-checkpoint.js';
export type { CheckpointTensor } from './validate-checkpoint.js';
export {
  MODEL_PARTS,
  WEIGHT_FORMATS,
  WEIGHT_FORMAT_SUFFIXES,
  onnxFileName,
  parseWeightFormat,
} from './weight-format.js';
export type { ModelPart, WeightFormat } from './weight-format.js';
export { WeightError } from './weight-error.js';
export { WeightPlanner } from './weight-plan.js';
export type { WeightJob, WeightOutput } from './weight-plan.js';
export { formatConversionReport } from './conversion-report.js';
export type { ConversionReport, ConvertedFile } from './conversion-report.js';

export * from './index.js';
export { convertCheckpoint } from './node/convert-checkpoint.js';
export type { ConvertOptions } from './node/convert-checkpoint.js';
export { MODEL_FOLDER_FILES } from './node/model-folder-files.js';
export { openCheckpoint } from './node/checkpoint-directory.js';
export type { OpenedCheckpoint } from './node/checkpoint-directory.js';
export { resolveCheckpointDirectory } from './node/resolve-checkpoint.js';
export type { CheckpointSourceOptions } from './node/resolve-checkpoint.js';
export { SafetensorsFile } from './node/safetensors-file.js';
export {
  SYNTHETIC_DEFAULT_CONFIG,
  videoLlava7bDimensions,
  writeSyntheticCheckpoint,
} from './node/synthetic-checkpoint.js';
export type { SyntheticCheckpoint, SyntheticCheckpointOptions } from './node/synthetic-checkpoint.js';
export { DEFAULT_EXTERNAL_DATA_CHUNK_BYTES, ExternalDataFiles } from './node/external-data-files.js';
export type { ExternalDataFileWritten, ExternalDataFilesOptions } from './node/external-data-files.js';
export { safetensorsSliceReader, writeWeights } from './node/weight-writer.js';
export type { TensorSliceReader, WriteWeightsOptions, WrittenWeights } from './node/weight-writer.js';

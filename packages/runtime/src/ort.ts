// `@video-llava/runtime/ort`: what the backends on onnxruntime (runtime-node, runtime-web) share, written against
// the structural slice of onnxruntime-common's API in ./ort/onnxruntime-api.ts (no onnxruntime import here).
export type {
  OnnxruntimeModule,
  OrtDataLocation,
  OrtExternalDataFile,
  OrtSession,
  OrtSessionOptions,
  OrtTensor,
  OrtTensorConstructor,
  OrtValueMetadata,
} from './ort/onnxruntime-api.js';
export { fromOrtTensor, toDeviceTensor, toOrtTensor } from './ort/ort-tensors.js';
export { readOrtValueMetadata } from './ort/read-ort-value-metadata.js';
export { toOrtSessionOptions } from './ort/to-ort-session-options.js';
export { probeExecutionProvider } from './ort/probe-execution-provider.js';
export {
  createWithFirstAvailableProvider,
  firstAvailableProvider,
} from './ort/create-with-first-available-provider.js';
export type { ProviderAttempt } from './ort/create-with-first-available-provider.js';
export { normalizeExternalData } from './ort/normalize-external-data.js';
export { externalDataWithoutFolderError, ortLoadError, throwIfLoadAborted } from './ort/load-errors.js';
export { createOrtInferenceSession } from './ort/create-ort-inference-session.js';
export type { OrtInferenceSessionContext } from './ort/create-ort-inference-session.js';

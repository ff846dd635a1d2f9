export type {
  Backend,
  BackendCapabilities,
  ExecutionProvider,
  ExecutionProviderName,
  ExternalDataFile,
  GraphOptimizationLevel,
  ModelFile,
  SessionOptions,
} from './backend.js';
export type {
  InferenceSession,
  OutputLocation,
  RunOptions,
  SessionFeeds,
  SessionOutputs,
} from './inference-session.js';
export { DeviceTensor } from './device-tensor.js';
export type { DeviceTensorInit } from './device-tensor.js';
export { isCpuTensor, toCpuTensor } from './runtime-tensor.js';
export type { RuntimeTensor } from './runtime-tensor.js';
export { formatSignature, formatType, formatValueMetadata } from './value-metadata.js';
export type { Dimension, ValueMetadata } from './value-metadata.js';
export { validateFeeds } from './validate-feeds.js';
export type { FeedContext } from './validate-feeds.js';
export { createInferenceSession } from './create-inference-session.js';
export type { SessionContext } from './create-inference-session.js';
export type { SessionAdapter } from './session-adapter.js';
export { checkSessionOptions, executionProviderName, resolveOutputLocations } from './check-session-options.js';
export { describeModelFile } from './describe-model-file.js';
export type { ModelDescription } from './describe-model-file.js';
export { inspectOnnxModel } from './inspect-onnx-model.js';
export type { OnnxModelSummary } from './inspect-onnx-model.js';
export { Tensor } from '@video-llava/core';
export { probeModelBytes } from './probe-model.js';

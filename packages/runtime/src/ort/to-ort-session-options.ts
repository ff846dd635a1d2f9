import type { ExecutionProvider, SessionOptions } from '../backend.js';
import { executionProviderName } from '../check-session-options.js';
import type { OrtExternalDataFile, OrtSessionOptions } from './onnxruntime-api.js';

/**
 * The onnxruntime options for loading a model with one execution provider: onnxruntime logs errors only, the
 * graph is fully optimized unless asked otherwise, and outputs asked to stay on the `'device'` become GPU buffers
 * under WebGPU. Threads are left to each backend (onnxruntime-web sets them once, for the whole page).
 */
export function toOrtSessionOptions(
  provider: ExecutionProvider,
  options: SessionOptions,
  externalData: readonly OrtExternalDataFile[],
): OrtSessionOptions {
  const location = options.outputLocation;
  return {
    executionProviders: [provider],
    logSeverityLevel: 3,
    graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
    ...(options.freeDimensionOverrides === undefined ? {} : { freeDimensionOverrides: options.freeDimensionOverrides }),
    ...(externalData.length === 0 ? {} : { externalData }),
    // GPU buffers are the only device memory onnxruntime hands out (CUDA outputs of onnxruntime-node always come
    // back to the host); other providers keep outputs in host memory.
    ...(executionProviderName(provider) === 'webgpu' && location !== undefined
      ? {
          preferredOutputLocation:
            typeof location === 'string'
              ? location === 'device'
                ? 'gpu-buffer'
                : 'cpu'
              : Object.fromEntries(
                  Object.entries(location).map(([key, value]) => [key, value === 'device' ? 'gpu-buffer' : 'cpu']),
                ),
        }
      : {}),
  };
}

import { availableParallelism } from 'node:os';
import { Tensor, VideoLlavaError } from '@video-llava/core';
import {
  type ExecutionProvider,
  type InferenceSession,
  type RuntimeTensor,
  type SessionAdapter,
  type SessionOptions,
  createInferenceSession,
  executionProviderName,
} from '@video-llava/runtime';
import { createInplaceSession } from './inplace-session.js';

/**
 * A session of `createNodeBackend` created with `inPlaceOutputs: true`: the model runs through the in-place runner
 * (ONNX Runtime's C API on onnxruntime-node's own library, CPU provider), so each run writes its outputs into the
 * `outputBuffers` it is given, an output bound to an input's tensor included, and copies nothing afterwards.
 * @param path the model file (its external data beside it, as the model names it)
 * @param description the model as messages name it
 */
export async function createInplaceBackendSession(
  path: string,
  options: SessionOptions,
  providers: readonly ExecutionProvider[],
  description: { model: string; file?: string },
  backend: string,
): Promise<InferenceSession> {
  const refuse = (field: string, message: string, actual: unknown): never => {
    throw new VideoLlavaError('UNSUPPORTED', `options.inPlaceOutputs: ${message}`, {
      ...(description.file ? { file: description.file } : {}),
      field,
      actual,
    });
  };
  if (!providers.some((provider) => executionProviderName(provider) === 'cpu'))
    refuse(
      'options.executionProviders',
      "in-place sessions run on the CPU provider, which the providers asked for leave out (add 'cpu').",
      providers.map((provider) => executionProviderName(provider)),
    );
  if (options.outputLocation !== undefined && options.outputLocation !== 'cpu')
    refuse('options.outputLocation', 'in-place outputs are CPU tensors.', options.outputLocation);
  if (options.freeDimensionOverrides !== undefined && Object.keys(options.freeDimensionOverrides).length > 0)
    refuse('options.freeDimensionOverrides', 'the in-place runner does not set them.', options.freeDimensionOverrides);
  const native = await createInplaceSession(path, {
    intraOpThreads: options.threads ?? availableParallelism(),
    graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
  });
  const outputLocations = Object.fromEntries(native.outputNames.map((name) => [name, 'cpu' as const]));
  const adapter: SessionAdapter = {
    inputMetadata: native.inputMetadata,
    outputMetadata: native.outputMetadata,
    executionProvider: 'cpu',
    outputLocations,
    writesOutputBuffers: true,
    async run(feeds, outputNames, outputBuffers = {}) {
      const missing = outputNames.filter((name) => outputBuffers[name] === undefined);
      if (missing.length > 0)
        throw new VideoLlavaError(
          'INVALID_ARGUMENT',
          `${description.model} was loaded with inPlaceOutputs: every output a run computes needs a tensor in options.outputBuffers; missing ${missing.join(', ')}.`,
          { field: 'options.outputBuffers', expected: outputNames, actual: Object.keys(outputBuffers) },
        );
      const cpuFeeds: Record<string, Tensor> = {};
      for (const [name, feed] of Object.entries(feeds)) {
        if (!(feed instanceof Tensor))
          throw new VideoLlavaError(
            'INVALID_ARGUMENT',
            `${description.model} was loaded with inPlaceOutputs and takes CPU tensors; ${name} is a device tensor.`,
            { field: name, expected: 'a CPU Tensor', actual: 'a DeviceTensor' },
          );
        cpuFeeds[name] = feed;
      }
      const outputs: Record<string, Tensor> = {};
      for (const name of outputNames) outputs[name] = outputBuffers[name]!;
      await native.run(cpuFeeds, outputs);
      return outputs as Record<string, RuntimeTensor>;
    },
    release: () => native.release(),
  };
  return createInferenceSession(adapter, { ...description, backend });
}

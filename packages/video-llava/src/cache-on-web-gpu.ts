import type { PretrainedConfig } from '@video-llava/config';
import type { ModelPart } from '@video-llava/model';
import type { Backend, OutputLocation, SessionOptions } from '@video-llava/runtime';

/**
 * Each part's session options, with the decoder's key/value cache (its `present.*` outputs) kept on the GPU when
 * WebGPU is the decoder's first choice of execution provider. Every step then feeds the decoder the GPU buffers the
 * step before wrote, where the default (outputs copied to the CPU) moves the whole cache to the CPU and back at every
 * token. The model frees those buffers as each step replaces them, on abort and on `release()`.
 *
 * Left as they are: the other parts, a decoder whose options set `outputLocation` (the caller's choice wins), a
 * decoder that asks for another provider first, a backend without device outputs. Only the first choice counts, as
 * the provider is picked when the session loads, after these options are given: should WebGPU turn out to be
 * unavailable there, onnxruntime-web runs the decoder on WebAssembly and keeps those outputs in host memory (device
 * tensors on `cpu`), which costs no copy either.
 *
 * @param sessionOptions the caller's `sessionOptions` (one for every part, or one per part)
 * @param backend the backend the model loads on (its default execution providers, whether it has device outputs)
 * @param config the checkpoint's configs (`text_config.num_hidden_layers` names the `present.*` outputs)
 */
export function withCacheOnWebGpu(
  sessionOptions: SessionOptions | ((part: ModelPart) => SessionOptions) | undefined,
  backend: Backend,
  config: PretrainedConfig,
): (part: ModelPart) => SessionOptions {
  const cacheOnDevice: Record<string, OutputLocation> = {};
  for (let layer = 0; layer < config.model.textConfig.numHiddenLayers; layer++) {
    cacheOnDevice[`present.${layer}.key`] = 'device';
    cacheOnDevice[`present.${layer}.value`] = 'device';
  }
  return (part) => {
    const options = (typeof sessionOptions === 'function' ? sessionOptions(part) : sessionOptions) ?? {};
    if (part !== 'decoder_model_merged' || options.outputLocation !== undefined || !backend.capabilities.deviceOutputs)
      return options;
    const first: unknown = (options.executionProviders ?? backend.capabilities.defaultExecutionProviders)[0];
    const name = typeof first === 'string' ? first : (first as { name?: unknown } | null | undefined)?.name;
    return name === 'webgpu' ? { ...options, outputLocation: cacheOnDevice } : options;
  };
}

import { VideoLlavaError } from '@video-llava/core';

/** The part of `onnxruntime-web` this backend uses (any of its bundles: the default one, `/webgpu`, `/wasm`, `/all`). */
export type OnnxruntimeWeb = Pick<typeof import('onnxruntime-web'), 'InferenceSession' | 'Tensor' | 'env'>;

/**
 * Imports a module with `load` once, turning a failure into a clear error and letting the next call try again.
 * @throws VideoLlavaError `UNSUPPORTED` when it cannot be loaded
 */
export function onceLoaded(load: () => Promise<OnnxruntimeWeb>): () => Promise<OnnxruntimeWeb> {
  let loading: Promise<OnnxruntimeWeb> | undefined;
  return () => {
    loading ??= Promise.resolve()
      .then(load)
      .then((module) => {
        const wrapped = (module as unknown as { default?: OnnxruntimeWeb }).default;
        const candidate = wrapped?.InferenceSession === undefined ? module : wrapped;
        if (typeof candidate?.InferenceSession?.create !== 'function')
          throw new Error('the module has no InferenceSession.create');
        return candidate;
      })
      .catch((error: unknown) => {
        loading = undefined;
        throw new VideoLlavaError(
          'UNSUPPORTED',
          `onnxruntime-web could not be loaded: ${error instanceof Error ? error.message : String(error)}`,
          {
            field: 'onnxruntime-web',
            expected: 'an importable onnxruntime-web',
            cause: error,
          },
        );
      });
    return loading;
  };
}

/** The default loader: the `onnxruntime-web` package's main bundle (WebAssembly and WebGPU; WebAssembly only in Node). */
export const importOnnxruntimeWeb = (): Promise<OnnxruntimeWeb> => import('onnxruntime-web');

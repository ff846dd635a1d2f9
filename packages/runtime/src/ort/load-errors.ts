import { VideoLlavaError } from '@video-llava/core';
import type { ModelDescription } from '../describe-model-file.js';

/**
 * Stops a load whose signal was aborted (checked between its steps).
 * @throws VideoLlavaError `ABORTED`, with the signal's reason as its cause
 */
export function throwIfLoadAborted(signal: AbortSignal | undefined, model: string): void {
  if (signal?.aborted) throw new VideoLlavaError('ABORTED', `Loading ${model} was aborted.`, { cause: signal.reason });
}

/** `INVALID_ARGUMENT`: a model given as bytes refers to an external data file that `options.externalData` does not give. */
export function externalDataWithoutFolderError(model: string, name: string, given: readonly string[]): VideoLlavaError {
  return new VideoLlavaError(
    'INVALID_ARGUMENT',
    `${model} refers to the external data file ${JSON.stringify(name)}, and a model given as bytes has no folder to find it in: pass options.externalData: [{ path: ${JSON.stringify(name)}, data }].`,
    {
      field: 'options.externalData',
      expected: `an entry { path: ${JSON.stringify(name)}, data }`,
      actual: given,
    },
  );
}

/** `INVALID_FILE`: onnxruntime (`backend`, e.g. `'onnxruntime-web'`) could not load the model with `provider`. */
export function ortLoadError(
  backend: string,
  provider: string,
  description: ModelDescription,
  error: unknown,
): VideoLlavaError {
  return new VideoLlavaError(
    'INVALID_FILE',
    `${backend} (${provider}) cannot load ${description.model}: ${error instanceof Error ? error.message : String(error)}`,
    {
      ...(description.file === undefined ? {} : { file: description.file }),
      expected: 'a valid ONNX model',
      cause: error,
    },
  );
}

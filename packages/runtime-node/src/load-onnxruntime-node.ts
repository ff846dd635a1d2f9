import { VideoLlavaError } from '@video-llava/core';

/** The part of `onnxruntime-node` this backend uses. */
export type OnnxruntimeNode = typeof import('onnxruntime-node');

let loading: Promise<OnnxruntimeNode> | undefined;

/**
 * Imports `onnxruntime-node` on first use (its native library is large: nothing loads until a session is created).
 * @throws VideoLlavaError `UNSUPPORTED` when it cannot be loaded (not installed, or no build for this platform)
 */
export function loadOnnxruntimeNode(): Promise<OnnxruntimeNode> {
  loading ??= import('onnxruntime-node')
    .then((module) => {
      const candidate = (module as { default?: OnnxruntimeNode }).default ?? module;
      if (typeof candidate.InferenceSession?.create !== 'function')
        throw new Error('the module has no InferenceSession.create');
      return candidate;
    })
    .catch((error: unknown) => {
      loading = undefined;
      throw new VideoLlavaError(
        'UNSUPPORTED',
        `onnxruntime-node could not be loaded on ${process.platform}/${process.arch}: ${error instanceof Error ? error.message : String(error)}. Install it (npm install onnxruntime-node@1.30.0).`,
        {
          field: 'onnxruntime-node',
          expected: 'an installed onnxruntime-node with a build for this platform',
          actual: `${process.platform}/${process.arch}`,
          cause: error,
        },
      );
    });
  return loading;
}

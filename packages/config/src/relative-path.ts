import { VideoLlavaError } from '@video-llava/core';

/**
 * Checks a file path given to a {@link ModelSource} and splits it into segments: relative, `/`-separated,
 * no `.` or `..` segments, no empty segments, no backslashes. Every source shares this rule so that a
 * path can never leave the checkpoint, whichever source serves it.
 *
 * @param path a path relative to the checkpoint's root, e.g. `onnx/decoder_model_merged.onnx`
 * @returns its segments
 * @throws VideoLlavaError `INVALID_ARGUMENT` naming the path
 */
export function splitRelativePath(path: string): string[] {
  const segments = typeof path === 'string' ? path.split('/') : [];
  const valid =
    segments.length > 0 &&
    !path.includes('\\') &&
    segments.every((segment) => segment !== '' && segment !== '.' && segment !== '..');
  if (!valid) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `File path ${JSON.stringify(path)} is not a relative path inside the checkpoint.`,
      {
        field: 'path',
        expected: 'a relative "/"-separated path without "." or ".." segments, e.g. "onnx/decoder_model_merged.onnx"',
        actual: path,
      },
    );
  }
  return segments;
}

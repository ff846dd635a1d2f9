import { VideoLlavaError, type WarningCallback, describeValue } from '@video-llava/core';
import type { FrameSelection } from './loaded-video.js';
import { sampleFrameIndices, sampleFrameIndicesAtFps } from './sample-frame-indices.js';

/**
 * The frame indices a {@link FrameSelection} asks for in a video of `totalFrames` frames: explicit `indices`
 * (checked), `fps` sampling, or `numFrames` (default 8) spread uniformly. Errors name the file.
 *
 * @param file the video, for error messages
 * @param totalFrames frames in the video
 * @param videoFps the video's frame rate, when known (needed for `fps`)
 * A video with fewer frames than `numFrames` is sampled as the model card's example does
 * (`np.arange(0, total, total / numFrames).astype(int)`, i.e. `floor(i * total / numFrames)`), which repeats
 * frames; `onWarning` then receives a `FRAMES_REPEATED` warning saying so. (transformers' `sample_frames`
 * refuses such a video; `sampleFrameIndices` still does, for callers that want that rule.)
 *
 * @param selection what the caller asked for
 * @param onWarning receives the `FRAMES_REPEATED` warning of a short video
 * @throws VideoLlavaError `INVALID_ARGUMENT` naming the file: conflicting options, an index out of range, or more
 *   frames asked at an `fps` than the video has
 */
export function pickFrameIndices(
  file: string,
  totalFrames: number,
  videoFps: number | undefined,
  selection: FrameSelection,
  onWarning?: WarningCallback,
): number[] {
  const given = (['numFrames', 'indices', 'fps'] as const).filter((name) => selection[name] !== undefined);
  if (given.length > 1) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `${file}: ${given.join(' and ')} are mutually exclusive ways to pick frames; give one.`,
      {
        file,
        field: given[1],
        expected: 'one of numFrames, indices, fps',
        actual: given,
      },
    );
  }
  try {
    if (selection.indices !== undefined) {
      if (selection.indices.length === 0) {
        throw new VideoLlavaError('INVALID_ARGUMENT', 'indices is empty.', {
          field: 'indices',
          expected: 'at least one index',
          actual: [],
        });
      }
      selection.indices.forEach((index, position) => {
        if (!Number.isSafeInteger(index) || index < 0 || index >= totalFrames) {
          throw new VideoLlavaError(
            'INVALID_ARGUMENT',
            `indices[${position}] = ${describeValue(index)} is not a frame of a ${totalFrames}-frame video.`,
            {
              field: `indices[${position}]`,
              expected: `an integer in [0, ${totalFrames - 1}]`,
              actual: index,
            },
          );
        }
      });
      return [...selection.indices];
    }
    if (selection.fps !== undefined) {
      if (videoFps === undefined) {
        throw new VideoLlavaError(
          'INVALID_ARGUMENT',
          'the video gives no frame rate, which fps sampling needs; use numFrames.',
          {
            field: 'fps',
            expected: 'a video with a frame rate',
            actual: undefined,
          },
        );
      }
      return sampleFrameIndicesAtFps(totalFrames, videoFps, selection.fps);
    }
    const numFrames = selection.numFrames ?? 8;
    if (
      Number.isSafeInteger(numFrames) &&
      Number.isSafeInteger(totalFrames) &&
      totalFrames >= 1 &&
      numFrames > totalFrames
    ) {
      const indices = Array.from({ length: numFrames }, (_, index) => Math.floor((index * totalFrames) / numFrames));
      onWarning?.({
        code: 'FRAMES_REPEATED',
        message: `${file} has ${totalFrames} frame${totalFrames === 1 ? '' : 's'}, fewer than the ${numFrames} sampled: frames repeat (indices ${indices.join(', ')}), as the model card's np.arange sampling does.`,
        file,
        expected: numFrames,
        actual: totalFrames,
      });
      return indices;
    }
    return sampleFrameIndices(totalFrames, numFrames);
  } catch (error) {
    if (!VideoLlavaError.isInstance(error)) throw error;
    // name the file: "clip.mp4: Cannot sample 8 frames from a video of 5 frames ..."
    throw new VideoLlavaError(error.code, `${file}: ${error.message}`, {
      file,
      field: error.field,
      expected: error.expected,
      actual: error.actual,
      cause: error,
    });
  }
}

/** Frames in the caller's order (repeats included) from frames decoded once each in ascending index order. */
export function arrangeFrames(
  decoded: Uint8Array,
  sorted: readonly number[],
  indices: readonly number[],
  frameBytes: number,
): Uint8Array {
  if (sorted.length === indices.length && sorted.every((index, position) => index === indices[position]))
    return decoded;
  const frames = new Uint8Array(frameBytes * indices.length);
  const positions = new Map(sorted.map((index, position) => [index, position]));
  indices.forEach((index, position) => {
    const from = positions.get(index)! * frameBytes;
    frames.set(decoded.subarray(from, from + frameBytes), position * frameBytes);
  });
  return frames;
}

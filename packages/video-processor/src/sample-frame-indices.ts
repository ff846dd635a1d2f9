import { VideoLlavaError, describeValue } from '@video-llava/core';

function checkCount(value: number, field: string, minimum: number): void {
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `${field} must be an integer >= ${minimum}, found ${describeValue(value)}.`,
      {
        field,
        expected: `an integer >= ${minimum}`,
        actual: value,
      },
    );
  }
}

/**
 * The frames Video-LLaVA looks at: `numFrames` indices spread uniformly over the video, the rule of the
 * reference example and of transformers' `BaseVideoProcessor.sample_frames`:
 * `floor(arange(0, totalFrames, totalFrames / numFrames))`, i.e. `floor(i * totalFrames / numFrames)` for
 * `i = 0 .. numFrames - 1` (computed exactly in integers, so no index is lost to rounding).
 *
 * A video with fewer frames than asked is refused, as transformers' sampler refuses it ("Video can't be sampled");
 * the model card's example (`np.arange` on the frame count) would repeat frames instead. The error message names
 * the indices that repeat frames that way: pass them as explicit indices if that is what you want.
 *
 * @param totalFrames frames in the video
 * @param numFrames frames to pick (the processor config's `num_frames`, 8 for Video-LLaVA)
 * @returns ascending frame indices, `numFrames` of them
 * @throws VideoLlavaError `INVALID_ARGUMENT` when `numFrames > totalFrames` or either is not a positive integer
 */
export function sampleFrameIndices(totalFrames: number, numFrames: number): number[] {
  checkCount(totalFrames, 'totalFrames', 0);
  checkCount(numFrames, 'numFrames', 1);
  const uniform = (): number[] =>
    Array.from({ length: numFrames }, (_, index) => Math.floor((index * totalFrames) / numFrames));
  if (numFrames > totalFrames) {
    // The model card's example (np.arange on the frame count) would repeat frames here; transformers' sampler
    // refuses. Refuse, and say which indices give the example's repeats.
    const repeats =
      totalFrames > 0 && numFrames <= 64
        ? ` To repeat frames as the model card's example does, pass indices [${uniform().join(', ')}].`
        : '';
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `Cannot sample ${numFrames} frames from a video of ${totalFrames} frame${totalFrames === 1 ? '' : 's'}: numFrames must be <= the frame count.${repeats}`,
      { field: 'numFrames', expected: `<= ${totalFrames}`, actual: numFrames },
    );
  }
  return uniform();
}

/**
 * The fps-based variant of {@link sampleFrameIndices}, as transformers' `sample_frames(fps=...)`: the number of
 * frames is `int(totalFrames / videoFps * fps)` (about `fps` frames per second of video), spread uniformly.
 *
 * @param totalFrames frames in the video
 * @param videoFps the video's frame rate
 * @param fps frames to sample per second of video
 * @throws VideoLlavaError `INVALID_ARGUMENT` when the rates are not positive, when the video is too short to give
 *   a single frame at that rate, or when the rate asks for more frames than the video has
 */
export function sampleFrameIndicesAtFps(totalFrames: number, videoFps: number, fps: number): number[] {
  checkCount(totalFrames, 'totalFrames', 0);
  for (const [field, value] of [
    ['videoFps', videoFps],
    ['fps', fps],
  ] as const) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `${field} must be a positive number, found ${describeValue(value)}.`,
        {
          field,
          expected: 'a positive number',
          actual: value,
        },
      );
    }
  }
  const numFrames = Math.trunc((totalFrames / videoFps) * fps);
  if (numFrames < 1) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `Sampling ${fps} frame(s) per second from ${totalFrames} frames at ${videoFps} fps gives no frame at all; raise fps or ask for a number of frames.`,
      { field: 'fps', expected: `>= ${videoFps / Math.max(totalFrames, 1)}`, actual: fps },
    );
  }
  if (numFrames > totalFrames) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `Sampling ${fps} frame(s) per second from ${totalFrames} frames at ${videoFps} fps asks for ${numFrames} frames, more than the video has.`,
      { field: 'fps', expected: `<= ${videoFps}`, actual: fps },
    );
  }
  return sampleFrameIndices(totalFrames, numFrames);
}

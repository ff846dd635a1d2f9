import type { Tensor, VideoLlavaWarning } from '@video-llava/core';

/** Which frames to take from a video. Give at most one of `numFrames`, `indices` and `fps`. */
export interface FrameSelection {
  /**
   * Frames to pick with the uniform rule `floor(i * total / numFrames)` (see `sampleFrameIndices`). Pass the
   * processor config's `numFrames` for checkpoints that use another count.
   * @default 8 (Video-LLaVA's `num_frames`)
   */
  numFrames?: number;
  /** Exact frame indices (presentation order, from 0) to return, in this order; repeats are allowed. */
  indices?: readonly number[];
  /** Frames per second of video to pick (transformers' `fps` sampling), instead of a fixed count. */
  fps?: number;
}

/** A decoded, sampled video. Give it to `VideoLlavaVideoProcessor.preprocess` as it is. */
export interface LoadedVideo {
  /** Where it came from: the path, URL or file name. */
  file: string;
  /** uint8 RGB frames `[frames, height, width, 3]`, in the order of {@link indices}. */
  frames: Tensor<'uint8'>;
  /** The index of each returned frame among all the video's frames (presentation order, from 0). */
  indices: number[];
  /** Frames in the video (checked against what the decoder produced). */
  totalFrames: number;
  /** Frame rate of the video, when known. */
  fps: number | undefined;
  /** Frame width (after the stream's rotation). */
  width: number;
  /** Frame height (after the stream's rotation). */
  height: number;
  /**
   * What the caller should know about these frames (also given to the loader's `onWarning` as they happen):
   * `FRAMES_REPEATED` for a video shorter than the frames sampled, `MEDIA_DAMAGED` when part of the file could
   * not be read and the frames come from the rest. Empty for a whole video.
   */
  warnings?: VideoLlavaWarning[];
}

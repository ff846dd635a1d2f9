import { type Tensor, VideoLlavaError, describeValue } from '@video-llava/core';
import type { FrameImage } from './frame-image.js';

/**
 * One video as decoded frames, in any of these forms:
 * - a uint8 {@link Tensor} `[frames, height, width, channels]` (channels last, 1, 3 or 4 channels), e.g. the
 *   `frames` of `loadVideo`;
 * - an array of {@link FrameImage} (e.g. `RawImage`s of `@video-llava/image-processor`), all the same size;
 * - an object with such `frames` (and optionally its frame rate), e.g. what `loadVideo` returns.
 */
export type VideoFrames = Tensor<'uint8'> | readonly FrameImage[] | VideoWithFrames;

/** A decoded video with its frames and, when known, its frame rate (what `loadVideo` returns fits). */
export interface VideoWithFrames {
  /** The frames. */
  readonly frames: Tensor<'uint8'> | readonly FrameImage[];
  /** Frames per second of the source, for fps-based sampling. */
  readonly fps?: number;
}

/** A video reduced to what the processor needs: its frames as images, and its frame rate when known. */
export interface NormalizedVideo {
  readonly frames: FrameImage[];
  readonly fps: number | undefined;
}

function isTensor(value: unknown): value is Tensor {
  return typeof value === 'object' && value !== null && 'dtype' in value && 'dims' in value && 'data' in value;
}

function isFrameImage(value: unknown): value is FrameImage {
  return (
    typeof value === 'object' &&
    value !== null &&
    'data' in value &&
    'width' in value &&
    'height' in value &&
    'channels' in value &&
    !('dims' in value)
  );
}

function isVideoWithFrames(value: unknown): value is VideoWithFrames {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'frames' in value;
}

function invalid(field: string, expected: string, actual: unknown): never {
  throw new VideoLlavaError('INVALID_ARGUMENT', `${field} should be ${expected}, found ${describeValue(actual)}.`, {
    field,
    expected,
    actual,
  });
}

function framesOfTensor(tensor: Tensor, field: string): FrameImage[] {
  if (tensor.dtype !== 'uint8') invalid(`${field}.dtype`, 'uint8', tensor.dtype);
  if (tensor.dims.length !== 4)
    invalid(`${field}.dims`, '[frames, height, width, channels]', `[${tensor.dims.join(', ')}]`);
  const [count, height, width, channels] = tensor.dims as [number, number, number, number];
  const frameSize = height * width * channels;
  const data = tensor.data as Uint8Array;
  const frames: FrameImage[] = [];
  for (let index = 0; index < count; index++) {
    frames.push({ data: data.subarray(index * frameSize, (index + 1) * frameSize), width, height, channels });
  }
  return frames;
}

function normalizeOne(video: VideoFrames, field: string): NormalizedVideo {
  if (isTensor(video)) return { frames: framesOfTensor(video, field), fps: undefined };
  if (isVideoWithFrames(video)) {
    const inner = normalizeOne(video.frames, `${field}.frames`);
    return { frames: inner.frames, fps: video.fps };
  }
  if (!Array.isArray(video))
    invalid(field, 'a uint8 tensor [frames, height, width, channels], an array of frames or { frames }', video);
  const frames = video as readonly unknown[];
  frames.forEach((frame, index) => {
    if (!isFrameImage(frame)) invalid(`${field}[${index}]`, 'a frame { data, width, height, channels }', frame);
  });
  return { frames: [...(frames as FrameImage[])], fps: undefined };
}

/**
 * Turns one video or a batch of videos into a list of {@link NormalizedVideo}. A rank-5 tensor
 * `[videos, frames, height, width, channels]` and an array whose items are videos are batches; anything else is
 * one video.
 */
export function normalizeVideos(
  videos: VideoFrames | readonly VideoFrames[] | Tensor<'uint8'>,
  field = 'videos',
): NormalizedVideo[] {
  if (isTensor(videos) && videos.dims.length === 5) {
    const [count] = videos.dims as [number];
    const result: NormalizedVideo[] = [];
    for (let index = 0; index < count; index++)
      result.push(normalizeOne(videos.at(index) as Tensor<'uint8'>, `${field}[${index}]`));
    return result;
  }
  if (Array.isArray(videos) && videos.length > 0 && !isFrameImage(videos[0])) {
    return (videos as readonly VideoFrames[]).map((video, index) => normalizeOne(video, `${field}[${index}]`));
  }
  if (Array.isArray(videos) && videos.length === 0) invalid(field, 'at least one video', videos);
  return [normalizeOne(videos as VideoFrames, field)];
}

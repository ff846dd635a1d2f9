import type { SizeSpec, VideoProcessorConfig } from '@video-llava/config';
import { Tensor, VideoLlavaError, describeValue } from '@video-llava/core';
import type { FrameImage } from './frame-image.js';
import {
  type FloatFrameImage,
  type ResizeWindow,
  resizeBicubicTorchvision,
  resizeBicubicTorchvisionFloat,
} from './resize-bicubic-torchvision.js';
import { resizeNearestExactTorchvision } from './resize-nearest-exact-torchvision.js';
import type { TorchvisionFilter } from './resize-weights.js';
import { sampleFrameIndices, sampleFrameIndicesAtFps } from './sample-frame-indices.js';
import { type NormalizedVideo, type VideoFrames, normalizeVideos } from './video-input.js';

/** Options of {@link VideoLlavaVideoProcessor.preprocess}; each overrides the processor config for one call. */
export interface VideoPreprocessOptions {
  /**
   * Whether to pick frames from the given ones (transformers' `do_sample_frames`). Leave it off when the frames
   * were already sampled at decoding time (`loadVideo` does that).
   * @default config.doSampleFrames (false for Video-LLaVA)
   */
  doSampleFrames?: boolean;
  /**
   * Frames to pick when sampling.
   * @default config.numFrames, unless `fps` is given
   */
  numFrames?: number;
  /**
   * Frames per second to pick when sampling (needs the video's own `fps`, e.g. from `loadVideo`).
   * @default config.fps
   */
  fps?: number;
}

/** What {@link VideoLlavaVideoProcessor.preprocess} returns. */
export interface VideoProcessorOutput {
  /** float32 `[videos, frames, 3, height, width]`: what the video tower takes as `pixel_values_videos`. */
  pixelValuesVideos: Tensor<'float32'>;
}

/** The PIL resample codes, by name. */
const RESAMPLE_NAMES: Record<number, string> = {
  0: 'nearest',
  1: 'lanczos',
  2: 'bilinear',
  3: 'bicubic',
  4: 'box',
  5: 'hamming',
};

/**
 * What transformers' video processors resize with for each PIL code (`pil_torch_interpolation_mapping`):
 * `NEAREST` becomes torchvision's `NEAREST_EXACT`; `BILINEAR` and `BICUBIC` the antialiased filters. torchvision
 * cannot resize tensors with `BOX`, `HAMMING` or `LANCZOS`, so the reference fails on those, and so do we.
 */
type FrameResampler = 'nearest-exact' | TorchvisionFilter;
const RESAMPLER_OF_CODE: Readonly<Record<number, FrameResampler>> = { 0: 'nearest-exact', 2: 'bilinear', 3: 'bicubic' };

/** Python's `round` on a non-negative number: halves go to the even neighbour. */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * The resized size of a `width` x `height` frame under `size`, as transformers' torchvision resize computes it:
 * - `{ height, width }`: exactly that;
 * - `{ shortestEdge }`: `get_resize_output_image_size(default_to_square=False)`: the short side becomes
 *   `shortestEdge`, the long side `int(shortestEdge * long / short)`;
 * - `{ shortestEdge, longestEdge }`: `get_size_with_aspect_ratio`: the same, except that when the long side would
 *   pass `longestEdge` the short side becomes `round(longestEdge * short / long)` (Python's `round`) and the long
 *   side `int(thatUnrounded * long / short)`; a frame whose short side already has the size keeps its size.
 */
export function resizeOutputSize(width: number, height: number, size: SizeSpec): { width: number; height: number } {
  if (!('shortestEdge' in size)) return { width: size.width, height: size.height };
  if (size.longestEdge === undefined) {
    const target = size.shortestEdge;
    if (width <= height) return { width: target, height: Math.trunc((target * height) / width) };
    return { width: Math.trunc((target * width) / height), height: target };
  }
  let target = size.shortestEdge;
  let unrounded: number | null = null;
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  if ((long / short) * target > size.longestEdge) {
    unrounded = (size.longestEdge * short) / long;
    target = roundHalfEven(unrounded);
  }
  if ((height <= width && height === target) || (width <= height && width === target)) return { width, height };
  const scaled = unrounded ?? target;
  if (width < height) return { width: target, height: Math.trunc((scaled * height) / width) };
  return { width: Math.trunc((scaled * width) / height), height: target };
}

interface CropPlan {
  /** Padding added on each side before cropping (zeros), in pixels. */
  padLeft: number;
  padTop: number;
  /** The window of the (padded) image that is kept. */
  window: ResizeWindow;
}

/**
 * transformers' center crop (the torchvision backend): pad with zeros when the crop is larger than the image
 * (`(crop - size) // 2` before, the rest after), then keep the window starting at `int((size - crop) / 2)`.
 */
function planCenterCrop(width: number, height: number, cropWidth: number, cropHeight: number): CropPlan {
  let padLeft = 0;
  let padTop = 0;
  let paddedWidth = width;
  let paddedHeight = height;
  if (cropWidth > width) {
    padLeft = Math.floor((cropWidth - width) / 2);
    paddedWidth = cropWidth;
  }
  if (cropHeight > height) {
    padTop = Math.floor((cropHeight - height) / 2);
    paddedHeight = cropHeight;
  }
  const top = Math.trunc((paddedHeight - cropHeight) / 2);
  const left = Math.trunc((paddedWidth - cropWidth) / 2);
  return { padLeft, padTop, window: { left, top, width: cropWidth, height: cropHeight } };
}

/** A frame on its way through the processor: uint8 (usual) or float32 (frames blended onto white). */
type WorkingFrame = { kind: 'uint8'; image: FrameImage } | { kind: 'float32'; image: FloatFrameImage };

/**
 * `VideoLlavaVideoProcessor` of transformers, in TypeScript: frames to RGB, torchvision's resize with the
 * config's filter (antialiased bicubic or bilinear on uint8, bit-exact; or nearest-exact), center crop, then the fused rescale-and-normalize in float32 — the same
 * operations in the same order and precision as the reference, so the output matches it to the last bit on
 * uint8 RGB frames.
 *
 * All sizes and constants come from the {@link VideoProcessorConfig} (`processor_config.json` /
 * `video_preprocessor_config.json`), never from the tiny fixture.
 *
 * @example
 * ```ts
 * const processor = new VideoLlavaVideoProcessor(config.processor.videoProcessor);
 * const { pixelValuesVideos } = processor.preprocess(await loadVideo('clip.mp4', { numFrames: 8 }));
 * pixelValuesVideos.dims; // [1, 8, 3, 224, 224]
 * ```
 */
export class VideoLlavaVideoProcessor {
  /** The settings in use. */
  readonly config: VideoProcessorConfig;

  /** How frames are resized, from `config.resample`. */
  private readonly resampler: FrameResampler;

  /**
   * @param config the video processor settings, e.g. `(await loadPretrainedConfig(source)).processor.videoProcessor`
   * @throws VideoLlavaError `UNSUPPORTED` naming the file and field when `resample` (with `do_resize`) is lanczos
   *   (1), box (4) or hamming (5): torchvision, which the reference resizes videos with, has no such filter for
   *   tensors; nearest (0), bilinear (2) and bicubic (3) are implemented
   */
  constructor(config: VideoProcessorConfig) {
    const resampler = RESAMPLER_OF_CODE[config.resample];
    if (resampler === undefined && config.doResize) {
      const file = config.origin?.file ?? 'the video processor config';
      const field = config.origin?.fieldPrefix ? `${config.origin.fieldPrefix}.resample` : 'resample';
      throw new VideoLlavaError(
        'UNSUPPORTED',
        `${file}: field "${field}" is ${config.resample} (${RESAMPLE_NAMES[config.resample] ?? 'not a PIL filter'}), which the video processor cannot resize with: transformers resizes videos with torchvision, which has no such filter for tensors. Use 0 (nearest), 2 (bilinear) or 3 (bicubic).`,
        {
          ...(config.origin ? { file: config.origin.file } : {}),
          field,
          expected: '0, 2 or 3',
          actual: config.resample,
        },
      );
    }
    this.config = config;
    this.resampler = resampler ?? 'bicubic';
  }

  /**
   * Turns one video or a batch of videos into `pixelValuesVideos` `[videos, frames, 3, height, width]`.
   *
   * @param videos one video ({@link VideoFrames}) or an array of them; every video must end with the same number of
   *   frames and the same size (the center crop usually sees to the size)
   * @param options per-call overrides of frame sampling
   * @throws VideoLlavaError `INVALID_ARGUMENT` for malformed frames (naming the video and frame), too few frames
   *   to sample, or 2-channel frames; `SHAPE_MISMATCH` when videos disagree in frame count or processed size
   */
  preprocess(videos: VideoFrames | readonly VideoFrames[], options: VideoPreprocessOptions = {}): VideoProcessorOutput {
    const normalized = normalizeVideos(videos);
    const sampled = normalized.map((video, index) => this.sampleFrames(video, options, `videos[${index}]`));
    checkFrames(sampled);
    const rgb = convertGroupsToRgb(sampled, this.config.doConvertRgb);

    let frameCount = -1;
    let outWidth = -1;
    let outHeight = -1;
    const processed: Float32Array[][] = [];
    for (const [videoIndex, frames] of rgb.entries()) {
      if (frameCount === -1) frameCount = frames.length;
      if (frames.length !== frameCount) {
        throw new VideoLlavaError(
          'SHAPE_MISMATCH',
          `videos[${videoIndex}] has ${frames.length} frames but videos[0] has ${frameCount}; a batch needs the same count.`,
          {
            field: `videos[${videoIndex}]`,
            expected: frameCount,
            actual: frames.length,
          },
        );
      }
      const outputs: Float32Array[] = [];
      for (const frame of frames) {
        const { data, width, height } = this.processFrame(frame);
        if (outWidth === -1) {
          outWidth = width;
          outHeight = height;
        }
        if (width !== outWidth || height !== outHeight) {
          throw new VideoLlavaError(
            'SHAPE_MISMATCH',
            `videos[${videoIndex}] becomes ${width}x${height} but videos[0] becomes ${outWidth}x${outHeight}; without a center crop the frames must share a size.`,
            { field: `videos[${videoIndex}]`, expected: `${outWidth}x${outHeight}`, actual: `${width}x${height}` },
          );
        }
        outputs.push(data);
      }
      processed.push(outputs);
    }
    const frameSize = 3 * outWidth * outHeight;
    const out = new Float32Array(processed.length * frameCount * frameSize);
    let offset = 0;
    for (const outputs of processed) {
      for (const data of outputs) {
        out.set(data, offset);
        offset += frameSize;
      }
    }
    return { pixelValuesVideos: new Tensor('float32', out, [processed.length, frameCount, 3, outHeight, outWidth]) };
  }

  private sampleFrames(video: NormalizedVideo, options: VideoPreprocessOptions, field: string): FrameImage[] {
    const doSample = options.doSampleFrames ?? this.config.doSampleFrames;
    if (!doSample) return video.frames;
    if (options.fps !== undefined && options.numFrames !== undefined) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        'numFrames and fps are mutually exclusive ways to sample frames; give one.',
        {
          field: 'options.fps',
          expected: 'numFrames or fps, not both',
          actual: { numFrames: options.numFrames, fps: options.fps },
        },
      );
    }
    const fps = options.fps ?? (options.numFrames === undefined ? (this.config.fps ?? undefined) : undefined);
    let indices: number[];
    if (fps !== undefined && options.numFrames === undefined) {
      if (video.fps === undefined) {
        throw new VideoLlavaError(
          'INVALID_ARGUMENT',
          `${field} has no frame rate, which sampling at ${fps} fps needs; give { frames, fps } or use numFrames.`,
          {
            field: `${field}.fps`,
            expected: 'the video frame rate',
            actual: undefined,
          },
        );
      }
      indices = sampleFrameIndicesAtFps(video.frames.length, video.fps, fps);
    } else {
      indices = sampleFrameIndices(video.frames.length, options.numFrames ?? this.config.numFrames);
    }
    return indices.map((index) => video.frames[index]!);
  }

  /** Resize, crop, rescale and normalize one RGB frame into float32 CHW. */
  private processFrame(frame: WorkingFrame): { data: Float32Array; width: number; height: number } {
    const config = this.config;
    const sourceWidth = frame.image.width;
    const sourceHeight = frame.image.height;
    const resized = config.doResize
      ? resizeOutputSize(sourceWidth, sourceHeight, config.size)
      : { width: sourceWidth, height: sourceHeight };
    const plan = config.doCenterCrop
      ? planCenterCrop(resized.width, resized.height, config.cropSize.width, config.cropSize.height)
      : { padLeft: 0, padTop: 0, window: { left: 0, top: 0, width: resized.width, height: resized.height } };
    const { window, padLeft, padTop } = plan;

    // The part of the resized image the window sees (the rest of the window is zero padding).
    const left = Math.max(window.left - padLeft, 0);
    const top = Math.max(window.top - padTop, 0);
    const right = Math.min(window.left + window.width - padLeft, resized.width);
    const bottom = Math.min(window.top + window.height - padTop, resized.height);
    const inner: ResizeWindow = { left, top, width: right - left, height: bottom - top };

    let samples: ArrayLike<number>;
    if (!config.doResize) {
      samples = cropSamples(frame.image, inner);
    } else if (this.resampler === 'nearest-exact') {
      samples = resizeNearestExactTorchvision<Uint8Array | Uint8ClampedArray | Float32Array>(
        frame.image,
        resized.width,
        resized.height,
        inner,
      ).data;
    } else if (frame.kind === 'uint8') {
      samples = resizeBicubicTorchvision(frame.image, resized.width, resized.height, {
        window: inner,
        interpolation: this.resampler,
      }).data;
    } else {
      samples = resizeBicubicTorchvisionFloat(frame.image, resized.width, resized.height, {
        window: inner,
        interpolation: this.resampler,
      }).data;
    }

    const f32 = Math.fround;
    const { doRescale, doNormalize, rescaleFactor, imageMean, imageStd } = config;
    const rescale = f32(rescaleFactor);
    // transformers fuses rescale into normalize: mean and std (float32) times 1/rescale_factor, then (x - mean) / std
    const inverse = f32(1 / rescaleFactor);
    const mean = imageMean.map((value) => (doRescale ? f32(f32(value) * inverse) : f32(value)));
    const std = imageStd.map((value) => (doRescale ? f32(f32(value) * inverse) : f32(value)));
    const transform = (value: number, channel: number): number => {
      if (doNormalize) return f32(f32(value - mean[channel]!) / std[channel]!);
      if (doRescale) return f32(value * rescale);
      return value;
    };

    const planeSize = window.width * window.height;
    const out = new Float32Array(3 * planeSize);
    const zero = [transform(0, 0), transform(0, 1), transform(0, 2)];
    const innerLeft = inner.left + padLeft - window.left;
    const innerTop = inner.top + padTop - window.top;
    // uint8 samples have 256 values: transform each once per channel (same arithmetic, same float32) and look up
    const table = samples instanceof Uint8Array ? new Float32Array(256) : undefined;
    for (let channel = 0; channel < 3; channel++) {
      const plane = channel * planeSize;
      if (inner.width !== window.width || inner.height !== window.height)
        out.fill(zero[channel]!, plane, plane + planeSize);
      if (table) for (let byte = 0; byte < 256; byte++) table[byte] = transform(byte, channel);
      for (let y = 0; y < inner.height; y++) {
        const sourceRow = y * inner.width * 3;
        const outRow = plane + (innerTop + y) * window.width + innerLeft;
        if (table) {
          for (let x = 0, at = sourceRow + channel; x < inner.width; x++, at += 3)
            out[outRow + x] = table[samples[at]!]!;
        } else {
          for (let x = 0; x < inner.width; x++)
            out[outRow + x] = transform(samples[sourceRow + x * 3 + channel]!, channel);
        }
      }
    }
    return { data: out, width: window.width, height: window.height };
  }
}

function cropSamples(image: FrameImage | FloatFrameImage, window: ResizeWindow): ArrayLike<number> {
  const channels = image.channels;
  const out =
    image.data instanceof Float32Array
      ? new Float32Array(window.width * window.height * channels)
      : new Uint8Array(window.width * window.height * channels);
  for (let y = 0; y < window.height; y++) {
    const from = ((window.top + y) * image.width + window.left) * channels;
    out.set(image.data.subarray(from, from + window.width * channels), y * window.width * channels);
  }
  return out;
}

function checkFrames(videos: FrameImage[][]): void {
  for (const [videoIndex, frames] of videos.entries()) {
    if (frames.length === 0) {
      throw new VideoLlavaError('INVALID_ARGUMENT', `videos[${videoIndex}] has no frames.`, {
        field: `videos[${videoIndex}]`,
        expected: 'at least one frame',
        actual: 0,
      });
    }
    const first = frames[0]!;
    for (const [frameIndex, frame] of frames.entries()) {
      const field = `videos[${videoIndex}][${frameIndex}]`;
      const { width, height, channels } = frame;
      if (![width, height].every((value) => Number.isSafeInteger(value) && value >= 1)) {
        throw new VideoLlavaError(
          'INVALID_ARGUMENT',
          `${field} has size ${describeValue(width)}x${describeValue(height)}; expected positive integers.`,
          {
            field,
            expected: 'positive integer width and height',
            actual: { width, height },
          },
        );
      }
      if (channels !== 1 && channels !== 3 && channels !== 4) {
        throw new VideoLlavaError(
          'INVALID_ARGUMENT',
          `${field} has ${describeValue(channels)} channels; the video processor takes 1 (gray), 3 (RGB) or 4 (RGBA).`,
          {
            field: `${field}.channels`,
            expected: '1, 3 or 4',
            actual: channels,
          },
        );
      }
      if (frame.data.length !== width * height * channels) {
        throw new VideoLlavaError(
          'SHAPE_MISMATCH',
          `${field} holds ${frame.data.length} samples but ${width}x${height}x${channels} needs ${width * height * channels}.`,
          {
            field: `${field}.data`,
            expected: width * height * channels,
            actual: frame.data.length,
          },
        );
      }
      if (width !== first.width || height !== first.height || channels !== first.channels) {
        throw new VideoLlavaError(
          'SHAPE_MISMATCH',
          `${field} is ${width}x${height}x${channels} but frame 0 of the video is ${first.width}x${first.height}x${first.channels}; frames of a video share a size.`,
          {
            field,
            expected: `${first.width}x${first.height}x${first.channels}`,
            actual: `${width}x${height}x${channels}`,
          },
        );
      }
    }
  }
}

/**
 * The reference's `convert_to_rgb` on videos grouped by shape: gray is repeated to three channels; four channels
 * are blended onto white (in float32, `(1 - a) * 255 + a * rgb` with `a = alpha / 255`) when any pixel of the
 * group is transparent. Fully opaque RGBA keeps its RGB (the reference would fail on it; PIL drops the alpha).
 */
function convertGroupsToRgb(videos: FrameImage[][], doConvertRgb: boolean): WorkingFrame[][] {
  const transparentGroups = new Set<string>();
  const key = (frames: FrameImage[]): string =>
    `${frames.length}x${frames[0]!.height}x${frames[0]!.width}x${frames[0]!.channels}`;
  if (doConvertRgb) {
    for (const frames of videos) {
      if (frames[0]!.channels !== 4) continue;
      if (frames.some((frame) => hasTransparency(frame.data))) transparentGroups.add(key(frames));
    }
  }
  return videos.map((frames, videoIndex) =>
    frames.map((frame, frameIndex): WorkingFrame => {
      if (frame.channels === 3) return { kind: 'uint8', image: frame };
      if (!doConvertRgb) {
        throw new VideoLlavaError(
          'INVALID_ARGUMENT',
          `videos[${videoIndex}][${frameIndex}] has ${frame.channels} channels and do_convert_rgb is off; the processor needs RGB frames.`,
          { field: `videos[${videoIndex}][${frameIndex}].channels`, expected: 3, actual: frame.channels },
        );
      }
      if (frame.channels === 1) return { kind: 'uint8', image: grayToRgb(frame) };
      if (transparentGroups.has(key(frames))) return { kind: 'float32', image: blendOntoWhite(frame) };
      return { kind: 'uint8', image: dropAlpha(frame) };
    }),
  );
}

function hasTransparency(data: ArrayLike<number>): boolean {
  for (let index = 3; index < data.length; index += 4) if (data[index]! < 255) return true;
  return false;
}

function grayToRgb(frame: FrameImage): FrameImage {
  const pixels = frame.width * frame.height;
  const out = new Uint8Array(pixels * 3);
  for (let pixel = 0; pixel < pixels; pixel++) {
    const value = frame.data[pixel]!;
    out[pixel * 3] = value;
    out[pixel * 3 + 1] = value;
    out[pixel * 3 + 2] = value;
  }
  return { data: out, width: frame.width, height: frame.height, channels: 3 };
}

function dropAlpha(frame: FrameImage): FrameImage {
  const pixels = frame.width * frame.height;
  const out = new Uint8Array(pixels * 3);
  for (let pixel = 0; pixel < pixels; pixel++) {
    out[pixel * 3] = frame.data[pixel * 4]!;
    out[pixel * 3 + 1] = frame.data[pixel * 4 + 1]!;
    out[pixel * 3 + 2] = frame.data[pixel * 4 + 2]!;
  }
  return { data: out, width: frame.width, height: frame.height, channels: 3 };
}

function blendOntoWhite(frame: FrameImage): FloatFrameImage {
  const f32 = Math.fround;
  const pixels = frame.width * frame.height;
  const out = new Float32Array(pixels * 3);
  for (let pixel = 0; pixel < pixels; pixel++) {
    const alpha = f32(frame.data[pixel * 4 + 3]! / 255);
    const background = f32(f32(1 - alpha) * 255);
    for (let channel = 0; channel < 3; channel++) {
      out[pixel * 3 + channel] = f32(background + f32(alpha * frame.data[pixel * 4 + channel]!));
    }
  }
  return { data: out, width: frame.width, height: frame.height, channels: 3 };
}

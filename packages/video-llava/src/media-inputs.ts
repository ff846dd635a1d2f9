import {
  type ProgressCallback,
  Tensor,
  type WarningCallback,
  VideoLlavaError,
  describeValue,
  throwIfAborted,
} from '@video-llava/core';
import type { RawImage } from '@video-llava/image-processor';
import type { VideoLlavaProcessor } from '@video-llava/processor';
import type { VideoFrames } from '@video-llava/video-processor';
import type { MediaLoadOptions, VideoLlavaPlatform } from './platform.js';

/**
 * A video of a request:
 * - a file: a path, a `file:` URL, bytes or a `Blob` (Node); a URL, bytes or a `Blob` (browser). Decoded,
 *   and the checkpoint's number of frames sampled uniformly;
 * - decoded frames: what `loadVideo` returns, a uint8 `[frames, height, width, 3]` tensor, or `RawImage`s;
 * - pixel values: a float32 `[frames, 3, H, W]` tensor (one video) or `[videos, frames, 3, H, W]`.
 */
export type VideoInput = string | URL | Uint8Array | ArrayBuffer | Blob | VideoFrames | Tensor<'float32'>;

/**
 * An image the browser has decoded or drawn: an `ImageBitmap`, `HTMLImageElement`, `HTMLCanvasElement`,
 * `OffscreenCanvas` or `ImageData` (`video-llava/web` only). Typed by its shape, so that the types need no DOM.
 */
export interface BrowserImage {
  readonly width: number;
  readonly height: number;
}

/**
 * An image of a request: a file (a path, a `file:` URL, bytes or a `Blob` in Node; a URL, bytes, a `Blob` or a
 * {@link BrowserImage} in browsers), a `RawImage`, or pixel values (float32 `[3, H, W]` or `[images, 3, H, W]`).
 */
export type ImageInput = string | URL | Uint8Array | ArrayBuffer | Blob | RawImage | BrowserImage | Tensor<'float32'>;

function isTensor(value: unknown): value is Tensor {
  return typeof value === 'object' && value !== null && 'dtype' in value && 'dims' in value && 'data' in value;
}

function pixelTensor(value: Tensor, rank: number, field: string, shape: string): Tensor<'float32'> {
  const shaped = value.dims.length === rank - 1 ? new Tensor(value.dtype, value.data, [1, ...value.dims]) : value;
  if (shaped.dims.length !== rank) {
    throw new VideoLlavaError(
      'SHAPE_MISMATCH',
      `${field} is a float32 tensor [${value.dims.join(', ')}]; pixel values must be ${shape}.`,
      { field, expected: shape, actual: [...value.dims] },
    );
  }
  return shaped as Tensor<'float32'>;
}

function concatenate(parts: Tensor<'float32'>[], field: string, what: string): Tensor<'float32'> | undefined {
  if (parts.length === 0) return undefined;
  if (parts.length === 1) return parts[0];
  const inner = parts[0]!.dims.slice(1);
  parts.forEach((part, index) => {
    if (part.dims.slice(1).join(',') !== inner.join(',')) {
      throw new VideoLlavaError(
        'SHAPE_MISMATCH',
        `${field}[${index}] gives pixel values [${part.dims.slice(1).join(', ')}] per ${what} but ${field}[0] gives [${inner.join(', ')}]: every ${what} of one request needs the same shape.`,
        {
          field: `${field}[${index}]`,
          expected: [...inner],
          actual: part.dims.slice(1),
        },
      );
    }
  });
  const size = parts.reduce((sum, part) => sum + part.size, 0);
  const data = new Float32Array(size);
  let offset = 0;
  for (const part of parts) {
    data.set(part.data, offset);
    offset += part.size;
  }
  return new Tensor('float32', data, [parts.reduce((sum, part) => sum + part.dims[0]!, 0), ...inner]);
}

/** What turns a request's media into pixel values. */
export interface MediaContext {
  platform: VideoLlavaPlatform;
  processor: VideoLlavaProcessor;
  signal?: AbortSignal | undefined;
  onProgress?: ProgressCallback | undefined;
  onWarning?: WarningCallback | undefined;
}

function asList<T>(value: T | readonly T[] | undefined, field: string): readonly T[] {
  if (value === undefined) return [];
  // A list is one entry per video or image (a video given as an array of frames goes inside a list of its own).
  if (Array.isArray(value)) return value as readonly T[];
  if (value === null)
    throw new VideoLlavaError('INVALID_ARGUMENT', `${field} must be a list, found null.`, {
      field,
      expected: 'a list',
      actual: null,
    });
  return [value as T];
}

/** What differs between videos and images on their way to pixel values. */
interface MediaKind<TDecoded> {
  /** The request's field (`videos`), one of its entries (`video`), the progress stage of decoding one. */
  field: string;
  item: string;
  stage: string;
  /** The rank of pixel values of several entries, and the shapes accepted (for messages). */
  rank: number;
  shape: string;
  /** What an entry may be, in a message and in the error's `expected`. */
  accepted: string;
  expected: string;
  /** Whether an entry is already decoded (frames, a `RawImage`). */
  isDecoded(value: unknown): boolean;
  load(platform: VideoLlavaPlatform, input: unknown, options: MediaLoadOptions): Promise<TDecoded>;
  preprocess(processor: VideoLlavaProcessor, decoded: TDecoded): Tensor<'float32'>;
}

const videoKind: MediaKind<VideoFrames> = {
  field: 'videos',
  item: 'video',
  stage: 'decode-video',
  rank: 5,
  shape: '[frames, 3, H, W] or [videos, frames, 3, H, W]',
  accepted: 'a file, a URL, decoded frames or pixel values',
  expected: 'a path, URL, Blob, LoadedVideo, uint8 frames or float32 pixel values',
  isDecoded: (value) => typeof value === 'object' && value !== null,
  load: (platform, input, options) => platform.loadVideo(input, options),
  preprocess: (processor, frames) => processor.videoProcessor.preprocess(frames).pixelValuesVideos,
};

const imageKind: MediaKind<RawImage> = {
  field: 'images',
  item: 'image',
  stage: 'decode-image',
  rank: 4,
  shape: '[3, H, W] or [images, 3, H, W]',
  accepted: 'a file, a URL, a RawImage or pixel values',
  expected: 'a path, URL, Blob, RawImage or float32 pixel values',
  isDecoded: (value) => typeof value === 'object' && value !== null && 'width' in value && 'height' in value,
  load: (platform, input, options) => platform.loadImage(input, options),
  preprocess: (processor, image) => processor.imageProcessor.preprocess(image).pixelValues,
};

/** Files decoded (progress: one item per entry), decoded entries processed, pixel tensors taken as they are. */
async function pixelValues<TDecoded>(
  media: unknown,
  context: MediaContext,
  kind: MediaKind<TDecoded>,
): Promise<Tensor<'float32'> | undefined> {
  const list = asList<unknown>(media, kind.field);
  const numFrames = context.processor.config.processor.videoProcessor.numFrames;
  const parts: Tensor<'float32'>[] = [];
  for (const [index, entry] of list.entries()) {
    throwIfAborted(context.signal, 'generation');
    const field = `${kind.field}[${index}]`;
    if (isTensor(entry) && entry.dtype === 'float32') {
      parts.push(pixelTensor(entry, kind.rank, field, kind.shape));
      continue;
    }
    let decoded: TDecoded;
    if (context.platform.isMediaFile(entry)) {
      const file = typeof entry === 'string' ? { file: entry } : {};
      context.onProgress?.({ stage: kind.stage, done: index, total: list.length, unit: 'items', ...file });
      decoded = await kind.load(context.platform, entry, {
        numFrames,
        signal: context.signal,
        onWarning: context.onWarning,
      });
      context.onProgress?.({ stage: kind.stage, done: index + 1, total: list.length, unit: 'items', ...file });
    } else if (kind.isDecoded(entry)) decoded = entry as TDecoded;
    else {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `${field} must be ${kind.accepted}, found ${describeValue(entry)}.`,
        { field, expected: kind.expected, actual: describeValue(entry) },
      );
    }
    parts.push(kind.preprocess(context.processor, decoded));
  }
  return concatenate(parts, kind.field, kind.item);
}

/**
 * The request's videos as `pixel_values_videos` `[videos, frames, 3, H, W]`: files decoded (progress `decode-video`,
 * one item per video), frames run through the checkpoint's video processor, pixel tensors taken as they are.
 */
export function videoPixelValues(
  videos: VideoInput | readonly VideoInput[] | undefined,
  context: MediaContext,
): Promise<Tensor<'float32'> | undefined> {
  return pixelValues(videos, context, videoKind);
}

/** The request's images as `pixel_values_images` `[images, 3, H, W]` (progress `decode-image`). */
export function imagePixelValues(
  images: ImageInput | readonly ImageInput[] | undefined,
  context: MediaContext,
): Promise<Tensor<'float32'> | undefined> {
  return pixelValues(images, context, imageKind);
}

import type { ModelSource } from '@video-llava/config';
import type { WarningCallback } from '@video-llava/core';
import type { RawImage } from '@video-llava/image-processor';
import type { Backend } from '@video-llava/runtime';
import type { VideoFrames } from '@video-llava/video-processor';

/** How a string source is resolved: the options of `resolveSource` (Node) or of the hub and HTTP sources (web). */
export interface SourceOptions {
  /**
   * Folder relative paths are resolved against (Node).
   * @default process.cwd()
   */
  cwd?: string;
  /**
   * Where `HF_TOKEN`, `HF_ENDPOINT`, `HF_HUB_CACHE`, `HF_HUB_OFFLINE` are read (Node).
   * @default process.env
   */
  env?: Record<string, string | undefined>;
  /** Hub options: `revision`, `endpoint`, `token`, `cacheDirectory` (Node), `offline` (Node), `fetch`. */
  hub?: Record<string, unknown>;
  /** HTTP options: `headers`, `fetch`. */
  http?: Record<string, unknown>;
}

/** Options the platform's media loaders get. */
export interface MediaLoadOptions {
  /** Frames to sample from a video (the checkpoint's `num_frames`). */
  numFrames: number;
  /** Cancels the decoding (`ABORTED`). */
  signal?: AbortSignal | undefined;
  /** Receives the decoder's warnings (a short video's repeated frames, a damaged file's lost part). */
  onWarning?: WarningCallback | undefined;
}

/**
 * What differs between Node and the browser: the backend, how a string names a model, how a file or URL becomes
 * frames or an image. The `video-llava` entry wires Node's (onnxruntime-node, FFmpeg, sharp), `video-llava/web`
 * the browser's (onnxruntime-web, WebCodecs, createImageBitmap).
 */
export interface VideoLlavaPlatform {
  /** `node` or `web`, for messages. */
  readonly name: string;
  /**
   * Whether the decoder's key/value cache stays on the GPU when the decoder runs on WebGPU (see
   * `withCacheOnWebGpu`), rather than being copied to the CPU and back at every step.
   * @default false
   */
  readonly cacheOnWebGpu?: boolean;
  /** The backend used when the caller gives none. */
  createBackend(): Backend;
  /** A model source from what the user typed (a folder, a URL, a hub id). */
  resolveSource(source: string | ModelSource, options: SourceOptions): ModelSource;
  /** Decodes a video file, path or URL and samples its frames. */
  loadVideo(input: unknown, options: MediaLoadOptions): Promise<VideoFrames>;
  /** Decodes an image file, path or URL. */
  loadImage(input: unknown, options: MediaLoadOptions): Promise<RawImage>;
  /**
   * Whether `input` is something {@link loadVideo} / {@link loadImage} reads (a path, a URL, bytes, a Blob; in
   * browsers also an image the browser draws, such as an `ImageBitmap`), rather than decoded media.
   */
  isMediaFile(input: unknown): boolean;
}

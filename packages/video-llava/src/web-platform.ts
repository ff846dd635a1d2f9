import { HttpSource, HubSource, type ModelSource, looksLikeHubId } from '@video-llava/config';
import { VideoLlavaError, describeValue } from '@video-llava/core';
import { type BrowserImageSource, loadImage } from '@video-llava/image-processor/browser';
import { createWebBackend } from '@video-llava/runtime-web';
import { type BrowserVideoSource, loadVideo } from '@video-llava/video-processor/browser';
import type { SourceOptions, VideoLlavaPlatform } from './platform.js';

function pageUrl(): string | undefined {
  return (globalThis as { location?: { href?: string } }).location?.href;
}

function resolveWebSource(source: string | ModelSource, options: SourceOptions): ModelSource {
  if (typeof source !== 'string') return source;
  if (/^https?:\/\//i.test(source))
    return new HttpSource(source, options.http as ConstructorParameters<typeof HttpSource>[1]);
  if (!source.startsWith('.') && !source.startsWith('/') && looksLikeHubId(source))
    return new HubSource(source, options.hub as ConstructorParameters<typeof HubSource>[1]);
  const base = pageUrl();
  if (base === undefined) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `${JSON.stringify(source)} is neither an http(s) URL nor a hub id, and there is no page URL to resolve it against.`,
      {
        field: 'source',
        expected: 'an http(s) URL, a hub id (org/name) or a ModelSource',
        actual: source,
      },
    );
  }
  return new HttpSource(new URL(source, base), options.http as ConstructorParameters<typeof HttpSource>[1]);
}

function isFileLike(input: unknown): boolean {
  return (
    typeof input === 'string' ||
    input instanceof URL ||
    input instanceof Uint8Array ||
    input instanceof ArrayBuffer ||
    (typeof Blob !== 'undefined' && input instanceof Blob)
  );
}

/** The image sources the browser draws itself (`ImageBitmapSource`), which the browser's `loadImage` reads. */
const BROWSER_IMAGE_TYPES = [
  'ImageBitmap',
  'HTMLImageElement',
  'SVGImageElement',
  'HTMLCanvasElement',
  'OffscreenCanvas',
  'HTMLVideoElement',
  'ImageData',
  'VideoFrame',
];

/**
 * Whether `input` is an `ImageBitmap`, `<img>`, canvas, `ImageData`, ... Looked up by name, as each exists only
 * in some browsers (and none in Node.js). Such an image has a width and a height, so without this check it would
 * be taken for a `RawImage` and refused as one.
 */
function isBrowserImage(input: unknown): boolean {
  if (typeof input !== 'object' || input === null) return false;
  return BROWSER_IMAGE_TYPES.some((name) => {
    const type = (globalThis as Record<string, unknown>)[name];
    return typeof type === 'function' && input instanceof (type as abstract new (...args: never[]) => unknown);
  });
}

/**
 * Browsers: onnxruntime-web (WASM, WebGPU, with the decoder's cache kept on the GPU), URLs and hub ids, WebCodecs
 * for videos, the browser's image decoders (for files, and for images it has already drawn: `ImageBitmap`, `<img>`,
 * canvases, `ImageData`).
 */
export const webPlatform: VideoLlavaPlatform = {
  name: 'web',
  cacheOnWebGpu: true,
  createBackend: () => createWebBackend(),
  resolveSource: resolveWebSource,
  isMediaFile: (input) => isFileLike(input) || isBrowserImage(input),
  loadVideo: (input, options) => {
    if (!isFileLike(input)) {
      return Promise.reject(
        new VideoLlavaError(
          'INVALID_ARGUMENT',
          `A video must be a URL, a Blob or bytes, found ${describeValue(input)}.`,
          { field: 'videos', expected: 'a URL, Blob or bytes', actual: describeValue(input) },
        ),
      );
    }
    return loadVideo(input as BrowserVideoSource, {
      numFrames: options.numFrames,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    });
  },
  loadImage: (input, options) =>
    loadImage(input as BrowserImageSource, options.signal ? { signal: options.signal } : {}),
};

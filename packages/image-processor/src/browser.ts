import { VideoLlavaError, describeValue } from '@video-llava/core';
import { decodePng } from './decode-png.js';
import { checkPixelLimit, DEFAULT_MAX_PIXELS } from './image-limits.js';
import { readImageHeader } from './image-header.js';
import { RawImage } from './raw-image.js';

export { DEFAULT_MAX_PIXELS } from './image-limits.js';
export { readImageHeader, sniffImageFormat } from './image-header.js';
export type { ImageFormat, ImageHeader } from './image-header.js';

/** Options of {@link loadImage} (browser). */
export interface LoadImageOptions {
  /**
   * Refuse images of more pixels than this. For files (bytes, blobs, URLs) it is checked from the header, before
   * the browser decodes anything.
   * @default DEFAULT_MAX_PIXELS (178,956,970: PIL's decompression-bomb limit)
   */
  maxPixels?: number;
  /** A name for the image in error messages when bytes or a blob are given. @default '<bytes>' */
  name?: string;
  /** Cancels the download of a URL. */
  signal?: AbortSignal;
}

/** What the browser {@link loadImage} accepts. */
export type BrowserImageSource = Blob | ArrayBuffer | Uint8Array | string | URL | ImageBitmapSource;

async function inflate(data: Uint8Array, expectedLength: number): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate'));
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.length;
    // Bounded memory: never keep more than the header promises.
    if (length > expectedLength) {
      await reader.cancel();
      break;
    }
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

async function download(url: string, options: LoadImageOptions): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, options.signal ? { signal: options.signal } : {});
  } catch (error) {
    if (options.signal?.aborted)
      throw new VideoLlavaError('ABORTED', `${url}: the download was aborted.`, {
        file: url,
        cause: options.signal.reason,
      });
    throw new VideoLlavaError(
      'DOWNLOAD_FAILED',
      `${url}: the image could not be downloaded (${error instanceof Error ? error.message : String(error)}).`,
      { file: url, cause: error },
    );
  }
  if (!response.ok) {
    const code = response.status === 404 ? 'FILE_NOT_FOUND' : 'DOWNLOAD_FAILED';
    throw new VideoLlavaError(
      code,
      `${url}: the server answered ${response.status} ${response.statusText}.`.replace(/ \.$/, '.'),
      {
        file: url,
        expected: 'HTTP 200',
        actual: response.status,
      },
    );
  }
  return new Uint8Array(await response.arrayBuffer());
}

function isImageData(value: unknown): value is ImageData {
  return typeof ImageData !== 'undefined' && value instanceof ImageData;
}

/** RGBA pixels to a RawImage: `RGB` when every pixel is opaque, else `RGBA`. */
function fromRgba(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number, keepAlpha: boolean): RawImage {
  const pixels = width * height;
  let opaque = true;
  if (keepAlpha) {
    for (let index = 3; index < rgba.length; index += 4) {
      if (rgba[index] !== 255) {
        opaque = false;
        break;
      }
    }
  }
  if (!opaque)
    return new RawImage(new Uint8Array(rgba.buffer, rgba.byteOffset, rgba.byteLength).slice(), width, height, 'RGBA');
  const rgb = new Uint8Array(pixels * 3);
  for (let index = 0; index < pixels; index++) {
    rgb[index * 3] = rgba[index * 4]!;
    rgb[index * 3 + 1] = rgba[index * 4 + 1]!;
    rgb[index * 3 + 2] = rgba[index * 4 + 2]!;
  }
  return new RawImage(rgb, width, height, 'RGB');
}

async function decodeWithBrowser(
  source: ImageBitmapSource,
  file: string,
  maxPixels: number,
  keepAlpha: boolean,
): Promise<RawImage> {
  if (typeof createImageBitmap !== 'function' || typeof OffscreenCanvas !== 'function') {
    throw new VideoLlavaError(
      'UNSUPPORTED',
      `${file}: this environment has no createImageBitmap/OffscreenCanvas to decode the image; use @video-llava/image-processor/node in Node.`,
      {
        file,
        expected: 'createImageBitmap and OffscreenCanvas',
      },
    );
  }
  let bitmap: ImageBitmap;
  try {
    // No colour management and no premultiplication: the file's own values, as PIL reads them.
    bitmap = await createImageBitmap(source, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (error) {
    throw new VideoLlavaError(
      'DECODE_FAILED',
      `${file}: the browser could not decode the image; it may be truncated or corrupt (${error instanceof Error ? error.message : String(error)}).`,
      {
        file,
        cause: error,
      },
    );
  }
  try {
    const { width, height } = bitmap;
    checkPixelLimit(width, height, 4, maxPixels, file);
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d', { willReadFrequently: true, colorSpace: 'srgb' });
    if (!context)
      throw new VideoLlavaError('UNSUPPORTED', `${file}: no 2D canvas context is available to read the pixels.`, {
        file,
      });
    context.drawImage(bitmap, 0, 0);
    const pixels = context.getImageData(0, 0, width, height, { colorSpace: 'srgb' });
    return fromRgba(pixels.data, width, height, keepAlpha);
  } finally {
    bitmap.close();
  }
}

async function decodeBytes(bytes: Uint8Array, file: string, maxPixels: number): Promise<RawImage> {
  const header = readImageHeader(bytes, file);
  checkPixelLimit(header.width, header.height, header.channels, maxPixels, file);
  // PNG is decoded here, so that it keeps PIL's mode (grey, palette, alpha) and exact values.
  if (header.format === 'png') return decodePng(bytes, { inflate, file, maxPixels });
  const type = { jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' }[header.format];
  return decodeWithBrowser(
    new Blob([bytes as Uint8Array<ArrayBuffer>], { type }),
    file,
    maxPixels,
    header.format !== 'jpeg',
  );
}

/**
 * Reads an image into a {@link RawImage} in a browser (or a worker):
 * - bytes, an `ArrayBuffer`, a `Blob`/`File`, or a URL (fetched): the header is read first (format, size), so empty
 *   files, non-images and images over `maxPixels` are refused before decoding. PNG is decoded by this package
 *   (with `DecompressionStream`) and keeps PIL's mode, like the Node loader; JPEG, WebP and GIF (first frame) are
 *   decoded by the browser with `createImageBitmap`, colour-space conversion and alpha premultiplication off, and
 *   read back through an `OffscreenCanvas`;
 * - any other `ImageBitmapSource` (an `<img>`, a canvas, an `ImageBitmap`, a `VideoFrame`, `ImageData`): its pixels
 *   as the browser has them.
 * JPEG decoders differ between browsers by a level here and there; browsers apply a JPEG's EXIF orientation, PIL
 * does not; images with partial transparency may lose a little colour precision in the canvas (it stores
 * premultiplied alpha). Alpha is dropped by `convertToRgb` anyway.
 *
 * @param source the image
 * @param options `maxPixels`, a `name` for error messages, a `signal` for downloads
 * @returns `RGB` or `RGBA` (or `L`, `LA`, `P` for PNG files)
 * @throws VideoLlavaError with `file` set: `FILE_NOT_FOUND` (HTTP 404), `DOWNLOAD_FAILED`, `INVALID_FILE` (empty,
 *   not an image), `DECODE_FAILED` (truncated or corrupt), `OUT_OF_MEMORY` (too many pixels), `UNSUPPORTED`
 */
export async function loadImage(source: BrowserImageSource, options: LoadImageOptions = {}): Promise<RawImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (typeof source === 'string' || source instanceof URL) {
    const url = String(source);
    return decodeBytes(await download(url, options), url, maxPixels);
  }
  const name = options.name ?? '<bytes>';
  if (source instanceof Uint8Array) return decodeBytes(source, name, maxPixels);
  if (source instanceof ArrayBuffer) return decodeBytes(new Uint8Array(source), name, maxPixels);
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    const file = options.name ?? ((source as { name?: unknown }).name as string | undefined) ?? '<blob>';
    return decodeBytes(new Uint8Array(await source.arrayBuffer()), file, maxPixels);
  }
  if (isImageData(source)) {
    checkPixelLimit(source.width, source.height, 4, maxPixels, name);
    return fromRgba(source.data, source.width, source.height, true);
  }
  if (source === null || typeof source !== 'object') {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `loadImage needs a URL, bytes, a Blob or an ImageBitmapSource, found ${describeValue(source)}.`,
      {
        field: 'source',
        expected: 'Blob | ArrayBuffer | Uint8Array | string | URL | ImageBitmapSource',
        actual: source,
      },
    );
  }
  return decodeWithBrowser(source, options.name ?? '<image>', maxPixels, true);
}

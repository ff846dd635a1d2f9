import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import { VideoLlavaError, describeValue } from '@video-llava/core';
import { decodePng } from './decode-png.js';
import { checkPixelLimit, DEFAULT_MAX_PIXELS } from './image-limits.js';
import { readImageHeader } from './image-header.js';
import { RawImage } from './raw-image.js';

export { DEFAULT_MAX_PIXELS } from './image-limits.js';
export { readImageHeader, sniffImageFormat } from './image-header.js';
export type { ImageFormat, ImageHeader } from './image-header.js';

/** Options of {@link loadImage} (Node). */
export interface LoadImageOptions {
  /**
   * Refuse images of more pixels than this, from the file header, before allocating anything for them.
   * @default DEFAULT_MAX_PIXELS (178,956,970: PIL's decompression-bomb limit)
   */
  maxPixels?: number;
  /** A name for the image in error messages when bytes are given. @default '<bytes>' */
  name?: string;
}

type SharpFunction = typeof import('sharp').default;
let sharpModule: Promise<SharpFunction> | undefined;

async function loadSharp(file: string): Promise<SharpFunction> {
  sharpModule ??= import('sharp').then((module) => module.default);
  try {
    return await sharpModule;
  } catch (error) {
    sharpModule = undefined;
    throw new VideoLlavaError(
      'UNSUPPORTED',
      `${file}: decoding JPEG, WebP and GIF in Node needs the optional dependency "sharp" (npm install sharp@0.35.5); it could not be loaded.`,
      {
        file,
        field: 'sharp',
        expected: 'the sharp package',
        actual: error instanceof Error ? error.message : String(error),
        cause: error,
      },
    );
  }
}

function inflate(data: Uint8Array, expectedLength: number): Uint8Array {
  // maxOutputLength bounds memory even when the stream holds more than the header promises.
  return inflateSync(data, { maxOutputLength: Math.max(expectedLength + 1, 64) });
}

async function readBytes(
  source: string | URL | Uint8Array,
  options: LoadImageOptions,
): Promise<{ bytes: Uint8Array; file: string }> {
  if (source instanceof Uint8Array) return { bytes: source, file: options.name ?? '<bytes>' };
  if (typeof source !== 'string' && !(source instanceof URL)) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `loadImage needs a file path, a file: URL or the file's bytes (Uint8Array), found ${describeValue(source)}.`,
      {
        field: 'pathOrBytes',
        expected: 'string | URL | Uint8Array',
        actual: (source as object | null | undefined)?.constructor?.name ?? source,
      },
    );
  }
  const file = source instanceof URL ? fileURLToPath(source) : source;
  try {
    const buffer = await readFile(file);
    return { bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength), file };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT') {
      throw new VideoLlavaError('FILE_NOT_FOUND', `${file}: no such image file.`, {
        file,
        expected: 'an existing file',
        actual: 'missing',
        cause: error,
      });
    }
    if (code === 'EISDIR') {
      throw new VideoLlavaError('INVALID_FILE', `${file}: is a folder, not an image file.`, {
        file,
        expected: 'a file',
        actual: 'a folder',
        cause: error,
      });
    }
    throw new VideoLlavaError('INVALID_FILE', `${file}: cannot be read (${code ?? (error as Error).message}).`, {
      file,
      cause: error,
    });
  }
}

async function decodeWithSharp(bytes: Uint8Array, file: string, maxPixels: number, grey: boolean): Promise<RawImage> {
  const sharp = await loadSharp(file);
  let result: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    // No ICC transform, no EXIF rotation, first frame only: PIL does none of these either. A truncated file is an
    // error (failOn 'warning'), as in PIL, rather than an image padded with grey.
    const pipeline = sharp(bytes, {
      ignoreIcc: true,
      autoOrient: false,
      pages: 1,
      page: 0,
      limitInputPixels: maxPixels,
      failOn: 'warning',
    });
    // A grey JPEG stays one channel (PIL's mode L) instead of being widened to sRGB.
    if (grey) pipeline.toColourspace('b-w');
    result = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message.trim() : String(error);
    throw new VideoLlavaError(
      'DECODE_FAILED',
      `${file}: the image could not be decoded; it may be truncated or corrupt (${reason}).`,
      { file, cause: error },
    );
  }
  const { width, height, channels } = result.info;
  if (channels < 1 || channels > 4) {
    throw new VideoLlavaError('UNSUPPORTED', `${file}: decodes to ${channels} channels; only 1 to 4 are supported.`, {
      file,
      expected: '1 to 4 channels',
      actual: channels,
    });
  }
  const data = new Uint8Array(result.data.buffer, result.data.byteOffset, result.data.byteLength);
  return new RawImage(data, width, height, channels as 1 | 2 | 3 | 4);
}

/**
 * Reads an image file into a {@link RawImage}, the way PIL's `Image.open` sees it:
 * - PNG: decoded here (no native code), keeping PIL's mode: `L` (grey), `LA`, `RGB`, `RGBA`, or `P` with its
 *   palette, so that `convertToRgb` gives what `convert("RGB")` gives;
 * - JPEG, WebP, GIF (first frame): decoded with `sharp` (an optional dependency, loaded on first use), without
 *   ICC colour transforms or EXIF rotation, as PIL. JPEG decodes through libjpeg-turbo as in PIL (a grey JPEG
 *   gives `L`; a CMYK JPEG is converted to RGB by libvips, which PIL does differently). A GIF comes out
 *   `RGB`/`RGBA` rather than `P`.
 * The header is read first: empty files, files that are no image (a text file named `.png`) and images larger
 * than `maxPixels` are refused before any pixel memory is allocated.
 *
 * @param pathOrBytes a file path, a `file:` URL, or the file's bytes
 * @param options `maxPixels`, and a `name` for bytes in error messages
 * @throws VideoLlavaError with `file` set: `FILE_NOT_FOUND`; `INVALID_FILE` (empty, not an image, a folder);
 *   `DECODE_FAILED` (truncated or corrupt); `OUT_OF_MEMORY` (too many pixels); `UNSUPPORTED` (sharp missing)
 */
export async function loadImage(
  pathOrBytes: string | URL | Uint8Array,
  options: LoadImageOptions = {},
): Promise<RawImage> {
  const { bytes, file } = await readBytes(pathOrBytes, options);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const header = readImageHeader(bytes, file);
  checkPixelLimit(header.width, header.height, header.channels, maxPixels, file);
  if (header.format === 'png') return decodePng(bytes, { inflate, file, maxPixels });
  return decodeWithSharp(bytes, file, maxPixels, header.format === 'jpeg' && header.channels === 1);
}

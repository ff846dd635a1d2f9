import { VideoLlavaError, describeValue } from '@video-llava/core';
import { isPng, readPngHeader } from './decode-png.js';

/** The file formats the loaders read. */
export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp';

/** What an image file's header says, read without decoding any pixels. */
export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
  /** Bytes per pixel the decoded image will have, as far as the header tells (for memory estimates). */
  channels: number;
}

function fail(
  file: string,
  message: string,
  details: { field?: string; expected?: unknown; actual?: unknown } = {},
): never {
  throw new VideoLlavaError('DECODE_FAILED', `${file}: ${message}`, { file, ...details });
}

function describeStart(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 16);
  const printable = [...head].every((byte) => byte === 9 || byte === 10 || byte === 13 || (byte >= 32 && byte < 127));
  if (printable) return describeValue(String.fromCharCode(...head));
  return [...head].map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
}

/**
 * The format of an image file from its first bytes (its magic number), whatever its name says.
 *
 * @param bytes the file, or at least its first 12 bytes
 * @returns the format, or `undefined` when it is none of PNG, JPEG, GIF, WebP
 */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (isPng(bytes)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 6) {
    const start = String.fromCharCode(...bytes.subarray(0, 6));
    if (start === 'GIF87a' || start === 'GIF89a') return 'gif';
  }
  if (
    bytes.length >= 12 &&
    String.fromCharCode(...bytes.subarray(0, 4)) === 'RIFF' &&
    String.fromCharCode(...bytes.subarray(8, 12)) === 'WEBP'
  )
    return 'webp';
  return undefined;
}

function jpegHeader(bytes: Uint8Array, file: string): ImageHeader {
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff)
      fail(file, `corrupt JPEG: expected a marker at byte ${offset}, found 0x${bytes[offset]!.toString(16)}.`, {
        field: 'marker',
      });
    const marker = bytes[offset + 1]!;
    if (marker === 0xff) {
      offset++;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2;
      continue;
    }
    const length = (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
    // Start-of-frame markers: C0..CF except C4 (DHT), C8 (JPG) and CC (DAC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (offset + 10 > bytes.length) break;
      const height = (bytes[offset + 5]! << 8) | bytes[offset + 6]!;
      const width = (bytes[offset + 7]! << 8) | bytes[offset + 8]!;
      const components = bytes[offset + 9]!;
      if (width === 0 || height === 0)
        fail(file, `the JPEG header gives an invalid size ${width}x${height}.`, {
          field: 'SOF',
          expected: 'positive sizes',
          actual: `${width}x${height}`,
        });
      return { format: 'jpeg', width, height, channels: components === 1 ? 1 : 3 };
    }
    if (marker === 0xd9 || marker === 0xda) break;
    offset += 2 + length;
  }
  fail(file, 'the JPEG is truncated or corrupt: no frame header (SOF) with its size was found.', {
    field: 'SOF',
    expected: 'a SOF marker',
    actual: 'none',
  });
}

function gifHeader(bytes: Uint8Array, file: string): ImageHeader {
  if (bytes.length < 10)
    fail(file, `the GIF is truncated: ${bytes.length} bytes, too short for its header.`, {
      field: 'header',
      expected: '>= 10 bytes',
      actual: bytes.length,
    });
  const width = bytes[6]! | (bytes[7]! << 8);
  const height = bytes[8]! | (bytes[9]! << 8);
  if (width === 0 || height === 0)
    fail(file, `the GIF header gives an invalid size ${width}x${height}.`, {
      field: 'size',
      expected: 'positive sizes',
      actual: `${width}x${height}`,
    });
  return { format: 'gif', width, height, channels: 4 };
}

function webpHeader(bytes: Uint8Array, file: string): ImageHeader {
  if (bytes.length < 30)
    fail(file, `the WebP is truncated: ${bytes.length} bytes, too short for its header.`, {
      field: 'header',
      expected: '>= 30 bytes',
      actual: bytes.length,
    });
  const chunk = String.fromCharCode(...bytes.subarray(12, 16));
  const at = 20;
  if (chunk === 'VP8 ') {
    const width = (bytes[at + 6]! | (bytes[at + 7]! << 8)) & 0x3fff;
    const height = (bytes[at + 8]! | (bytes[at + 9]! << 8)) & 0x3fff;
    return { format: 'webp', width, height, channels: 3 };
  }
  if (chunk === 'VP8L') {
    const bits = bytes[at + 1]! | (bytes[at + 2]! << 8) | (bytes[at + 3]! << 16) | (bytes[at + 4]! << 24);
    return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, channels: 4 };
  }
  if (chunk === 'VP8X') {
    const width = 1 + (bytes[at + 4]! | (bytes[at + 5]! << 8) | (bytes[at + 6]! << 16));
    const height = 1 + (bytes[at + 7]! | (bytes[at + 8]! << 8) | (bytes[at + 9]! << 16));
    return { format: 'webp', width, height, channels: bytes[at]! & 0x10 ? 4 : 3 };
  }
  fail(file, `unknown WebP chunk ${describeValue(chunk)}.`, {
    field: 'chunk',
    expected: 'VP8, VP8L or VP8X',
    actual: chunk,
  });
}

/**
 * Reads an image file's format and size from its header, decoding nothing: used to refuse images too large for
 * memory before allocating them, and to refuse files that are no image at all.
 *
 * @param bytes the file
 * @param file its name or URL, for error messages
 * @default file '<bytes>'
 * @throws VideoLlavaError `INVALID_FILE` for an empty file or one that is no PNG, JPEG, GIF or WebP (a text file named
 *   `.png`, say); `DECODE_FAILED` for a header cut short or invalid
 */
export function readImageHeader(bytes: Uint8Array, file = '<bytes>'): ImageHeader {
  if (bytes.length === 0) {
    throw new VideoLlavaError(
      'INVALID_FILE',
      `${file}: the file is empty (0 bytes); expected a PNG, JPEG, WebP or GIF image.`,
      {
        file,
        expected: 'PNG, JPEG, WebP or GIF data',
        actual: '0 bytes',
      },
    );
  }
  const format = sniffImageFormat(bytes);
  switch (format) {
    case 'png': {
      const header = readPngHeader(bytes, file);
      const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[header.colorType] ?? 4;
      return { format, width: header.width, height: header.height, channels };
    }
    case 'jpeg':
      return jpegHeader(bytes, file);
    case 'gif':
      return gifHeader(bytes, file);
    case 'webp':
      return webpHeader(bytes, file);
    default:
      throw new VideoLlavaError(
        'INVALID_FILE',
        `${file}: not an image this package reads (PNG, JPEG, WebP or GIF); it starts with ${describeStart(bytes)}.`,
        {
          file,
          expected: 'PNG, JPEG, WebP or GIF data',
          actual: describeStart(bytes),
        },
      );
  }
}

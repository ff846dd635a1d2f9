import { VideoLlavaError } from '@video-llava/core';
import { RawImage, type ImageMode } from './raw-image.js';
import { checkPixelLimit, DEFAULT_MAX_PIXELS } from './image-limits.js';

/** Inflates a zlib stream (PNG's IDAT data) that should give `expectedLength` bytes. */
export type InflateFunction = (data: Uint8Array, expectedLength: number) => Uint8Array | Promise<Uint8Array>;

/** Options of {@link decodePng}. */
export interface DecodePngOptions {
  /** zlib inflation: `node:zlib` in Node, `DecompressionStream` in browsers. */
  inflate: InflateFunction;
  /** The file's name or URL, for error messages. @default '<bytes>' */
  file?: string;
  /** Refuse images of more pixels than this, from the header, before allocating. @default DEFAULT_MAX_PIXELS */
  maxPixels?: number;
}

/** What a PNG's IHDR chunk says. */
export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlaced: boolean;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

// Allowed bit depths of each colour type (PNG spec, table 11.1), and samples per pixel.
const DEPTHS: Record<number, readonly number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};
const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

let crcTable: Uint32Array | undefined;

function crc32(bytes: Uint8Array, start: number, end: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let index = start; index < end; index++) crc = crcTable[(crc ^ bytes[index]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function fail(
  file: string,
  message: string,
  details: { field?: string; expected?: unknown; actual?: unknown; cause?: unknown } = {},
): never {
  throw new VideoLlavaError('DECODE_FAILED', `${file}: ${message}`, { file, ...details });
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

/** True when the bytes start with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((value, index) => bytes[index] === value);
}

/**
 * Reads and checks a PNG's signature and IHDR chunk, without touching the pixel data.
 *
 * @param bytes the file (at least its first 33 bytes)
 * @param file the file's name, for error messages
 * @default file '<bytes>'
 * @throws VideoLlavaError `DECODE_FAILED` naming the file when the header is missing, cut short or invalid
 */
export function readPngHeader(bytes: Uint8Array, file = '<bytes>'): PngHeader {
  if (!isPng(bytes))
    fail(file, 'not a PNG file (the signature \\x89PNG\\r\\n\\x1a\\n is missing).', {
      field: 'signature',
      expected: 'PNG signature',
    });
  if (bytes.length < 33)
    fail(file, `the PNG is truncated: ${bytes.length} bytes, too short for its IHDR header.`, {
      field: 'IHDR',
      expected: '>= 33 bytes',
      actual: bytes.length,
    });
  const length = readUint32(bytes, 8);
  const type = String.fromCharCode(...bytes.subarray(12, 16));
  if (type !== 'IHDR' || length !== 13)
    fail(file, `the first PNG chunk should be a 13-byte IHDR, found ${JSON.stringify(type)} of ${length} bytes.`, {
      field: 'IHDR',
      expected: 'IHDR',
      actual: type,
    });
  const width = readUint32(bytes, 16);
  const height = readUint32(bytes, 20);
  const bitDepth = bytes[24]!;
  const colorType = bytes[25]!;
  const compression = bytes[26]!;
  const filter = bytes[27]!;
  const interlace = bytes[28]!;
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) {
    fail(file, `invalid PNG size ${width}x${height}.`, {
      field: 'IHDR.size',
      expected: 'width and height in 1..2^31-1',
      actual: `${width}x${height}`,
    });
  }
  if (!DEPTHS[colorType]?.includes(bitDepth)) {
    fail(file, `invalid PNG colour type ${colorType} with bit depth ${bitDepth}.`, {
      field: 'IHDR.colorType',
      expected: 'a valid colour type and bit depth',
      actual: `${colorType}/${bitDepth}`,
    });
  }
  if (compression !== 0 || filter !== 0 || interlace > 1) {
    fail(file, `unsupported PNG compression/filter/interlace method ${compression}/${filter}/${interlace}.`, {
      field: 'IHDR',
      expected: '0/0/0 or 0/0/1',
      actual: `${compression}/${filter}/${interlace}`,
    });
  }
  if (crc32(bytes, 12, 29) !== readUint32(bytes, 29))
    fail(file, 'the PNG header (IHDR) is corrupt: its CRC does not match.', { field: 'IHDR.crc' });
  return { width, height, bitDepth, colorType, interlaced: interlace === 1 };
}

function paeth(left: number, up: number, upLeft: number): number {
  const estimate = left + up - upLeft;
  const distanceLeft = Math.abs(estimate - left);
  const distanceUp = Math.abs(estimate - up);
  const distanceUpLeft = Math.abs(estimate - upLeft);
  if (distanceLeft <= distanceUp && distanceLeft <= distanceUpLeft) return left;
  return distanceUp <= distanceUpLeft ? up : upLeft;
}

/** Undoes the PNG row filters of one (sub)image in place; returns the offset just past it. */
function unfilter(
  data: Uint8Array,
  offset: number,
  rowBytes: number,
  rows: number,
  bytesPerPixel: number,
  file: string,
): number {
  for (let row = 0; row < rows; row++) {
    const filterType = data[offset]!;
    const start = offset + 1;
    const previous = row === 0 ? -1 : start - rowBytes - 1;
    switch (filterType) {
      case 0:
        break;
      case 1:
        for (let index = bytesPerPixel; index < rowBytes; index++)
          data[start + index] = (data[start + index]! + data[start + index - bytesPerPixel]!) & 0xff;
        break;
      case 2:
        if (previous >= 0)
          for (let index = 0; index < rowBytes; index++)
            data[start + index] = (data[start + index]! + data[previous + index]!) & 0xff;
        break;
      case 3:
        for (let index = 0; index < rowBytes; index++) {
          const left = index >= bytesPerPixel ? data[start + index - bytesPerPixel]! : 0;
          const up = previous >= 0 ? data[previous + index]! : 0;
          data[start + index] = (data[start + index]! + ((left + up) >> 1)) & 0xff;
        }
        break;
      case 4:
        for (let index = 0; index < rowBytes; index++) {
          const left = index >= bytesPerPixel ? data[start + index - bytesPerPixel]! : 0;
          const up = previous >= 0 ? data[previous + index]! : 0;
          const upLeft = previous >= 0 && index >= bytesPerPixel ? data[previous + index - bytesPerPixel]! : 0;
          data[start + index] = (data[start + index]! + paeth(left, up, upLeft)) & 0xff;
        }
        break;
      default:
        fail(file, `corrupt PNG data: unknown row filter ${filterType}.`, {
          field: 'IDAT',
          expected: 'filter 0..4',
          actual: filterType,
        });
    }
    offset = start + rowBytes;
  }
  return offset;
}

/** PIL's mode for each colour type (16-bit grey becomes I;16, which converts to RGB by clipping at 255). */
function modeOf(colorType: number): ImageMode {
  switch (colorType) {
    case 0:
      return 'L';
    case 2:
      return 'RGB';
    case 3:
      return 'P';
    case 4:
      return 'LA';
    default:
      return 'RGBA';
  }
}

/**
 * Reads one sample of a filtered-out row as PIL would store it in 8 bits: low bit depths of grey scaled to
 * 0..255 (1 bit: 0/255, 2 bits: x85, 4 bits: x17), palette indices as they are, 16-bit samples by their high
 * byte, except 16-bit grey (PIL's `I;16`), whose conversion to RGB clips at 255.
 */
function sampleReader(header: PngHeader): (row: Uint8Array, rowStart: number, sampleIndex: number) => number {
  const depth = header.bitDepth;
  const palette = header.colorType === 3;
  if (depth === 8) return (row, start, sample) => row[start + sample]!;
  if (depth === 16) {
    if (header.colorType === 0) {
      return (row, start, sample) => {
        const high = row[start + sample * 2]!;
        return high !== 0 ? 255 : row[start + sample * 2 + 1]!;
      };
    }
    return (row, start, sample) => row[start + sample * 2]!;
  }
  const perByte = 8 / depth;
  const mask = (1 << depth) - 1;
  const scale = palette ? 1 : 255 / mask;
  return (row, start, sample) => {
    const byte = row[start + Math.floor(sample / perByte)]!;
    const shift = 8 - depth * ((sample % perByte) + 1);
    return ((byte >> shift) & mask) * scale;
  };
}

const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/**
 * Decodes a PNG into a {@link RawImage} in the mode PIL gives it: `L` (grey, also 1/2/4/16-bit grey), `LA`,
 * `RGB`, `RGBA`, or `P` with its palette. Transparency chunks (tRNS) are read past: PIL keeps them aside too,
 * and `convert("RGB")` ignores them. Chunk CRCs are checked; interlaced (Adam7) images are supported.
 * The size is checked against `maxPixels` from the header, before any pixel memory is allocated.
 *
 * @param bytes the whole file
 * @param options `inflate` (zlib), `file` for messages, `maxPixels`
 * @throws VideoLlavaError `DECODE_FAILED` naming the file for a corrupt or truncated PNG; `OUT_OF_MEMORY` when
 *   the header claims more than `maxPixels` pixels
 */
export async function decodePng(bytes: Uint8Array, options: DecodePngOptions): Promise<RawImage> {
  const file = options.file ?? '<bytes>';
  const header = readPngHeader(bytes, file);
  const { width, height, bitDepth, colorType } = header;
  const samples = SAMPLES[colorType]!;
  const mode = modeOf(colorType);
  const channels = mode === 'P' ? 1 : samples;
  checkPixelLimit(width, height, channels, options.maxPixels ?? DEFAULT_MAX_PIXELS, file);

  const bitsPerPixel = samples * bitDepth;
  const bytesPerPixel = Math.max(1, bitsPerPixel >> 3);
  const passes = header.interlaced
    ? ADAM7.map(([x0, y0, dx, dy]) => ({
        x0,
        y0,
        dx,
        dy,
        width: Math.ceil((width - x0) / dx),
        height: Math.ceil((height - y0) / dy),
      })).filter((pass) => pass.width > 0 && pass.height > 0)
    : [{ x0: 0, y0: 0, dx: 1, dy: 1, width, height }];
  const expectedLength = passes.reduce(
    (total, pass) => total + pass.height * (1 + Math.ceil((pass.width * bitsPerPixel) / 8)),
    0,
  );

  const idat: Uint8Array[] = [];
  let idatLength = 0;
  let palette: Uint8Array | undefined;
  let sawEnd = false;
  let offset = 8;
  while (offset < bytes.length) {
    if (offset + 8 > bytes.length)
      fail(file, `the PNG is truncated: a chunk header at byte ${offset} is cut short.`, {
        field: 'chunk',
        expected: 'complete chunks',
        actual: `${bytes.length} bytes`,
      });
    const length = readUint32(bytes, offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const dataStart = offset + 8;
    const dataEnd = dataStart + length;
    if (dataEnd + 4 > bytes.length) {
      fail(
        file,
        `the PNG is truncated: chunk ${JSON.stringify(type)} at byte ${offset} needs ${length + 12} bytes but only ${bytes.length - offset} remain.`,
        {
          field: type,
          expected: length + 12,
          actual: bytes.length - offset,
        },
      );
    }
    if (crc32(bytes, offset + 4, dataEnd) !== readUint32(bytes, dataEnd)) {
      fail(file, `the PNG is corrupt: the CRC of chunk ${JSON.stringify(type)} at byte ${offset} does not match.`, {
        field: `${type}.crc`,
      });
    }
    if (type === 'IDAT') {
      idat.push(bytes.subarray(dataStart, dataEnd));
      idatLength += length;
    } else if (type === 'PLTE') {
      if (length % 3 !== 0 || length > 768 || length === 0)
        fail(file, `invalid PNG palette of ${length} bytes.`, {
          field: 'PLTE',
          expected: '3 * n bytes, n in 1..256',
          actual: length,
        });
      palette = bytes.slice(dataStart, dataEnd);
    } else if (type === 'IEND') {
      sawEnd = true;
      break;
    }
    offset = dataEnd + 4;
  }
  if (idatLength === 0)
    fail(
      file,
      sawEnd ? 'the PNG has no image data (no IDAT chunk).' : 'the PNG is truncated: it ends before its image data.',
      { field: 'IDAT', expected: 'IDAT chunks', actual: 'none' },
    );
  if (colorType === 3 && !palette)
    fail(file, 'the palette PNG has no PLTE chunk.', { field: 'PLTE', expected: 'a palette', actual: 'none' });

  const compressed = new Uint8Array(idatLength);
  let position = 0;
  for (const chunk of idat) {
    compressed.set(chunk, position);
    position += chunk.length;
  }
  let raw: Uint8Array;
  try {
    raw = await options.inflate(compressed, expectedLength);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    fail(file, `the PNG's image data is truncated or corrupt (zlib: ${reason}).`, { field: 'IDAT', cause: error });
  }
  if (raw.length < expectedLength) {
    fail(
      file,
      `the PNG is truncated: its image data gives ${raw.length} bytes, ${expectedLength} expected for ${width}x${height}.`,
      { field: 'IDAT', expected: expectedLength, actual: raw.length },
    );
  }

  const out = new Uint8Array(width * height * channels);
  const read = sampleReader(header);
  let rowOffset = 0;
  for (const pass of passes) {
    const rowBytes = Math.ceil((pass.width * bitsPerPixel) / 8);
    const end = unfilter(raw, rowOffset, rowBytes, pass.height, bytesPerPixel, file);
    for (let row = 0; row < pass.height; row++) {
      const start = rowOffset + row * (rowBytes + 1) + 1;
      const y = pass.y0 + row * pass.dy;
      for (let column = 0; column < pass.width; column++) {
        const target = (y * width + pass.x0 + column * pass.dx) * channels;
        for (let sample = 0; sample < channels; sample++)
          out[target + sample] = read(raw, start, column * samples + sample);
      }
    }
    rowOffset = end;
  }
  return new RawImage(out, width, height, mode, mode === 'P' ? { palette: palette! } : {});
}

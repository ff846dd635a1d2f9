import { crc32, deflateSync } from 'node:zlib';

/** What {@link writePng} encodes: samples already packed per PNG row (no filter byte). */
export interface PngParts {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  /** Packed rows, `height` of them, without filter bytes. */
  rows: Uint8Array[];
  palette?: Uint8Array;
  /** Extra chunks written before IDAT, e.g. tRNS. */
  extra?: Array<{ type: string; data: Uint8Array }>;
  /** Override the IHDR's width/height (to craft a lying header). */
  headerSize?: { width: number; height: number };
  /** Leave out IDAT and IEND (a header-only file). */
  headerOnly?: boolean;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let index = 0; index < 4; index++) out[4 + index] = type.charCodeAt(index);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * A minimal PNG encoder for tests: any colour type and bit depth, filter 0 on every row, no interlace.
 * Written here so that tests can make the PNG variants (1/2/4/16-bit, palettes) that common encoders do not.
 */
export function writePng(parts: PngParts): Uint8Array {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, parts.headerSize?.width ?? parts.width);
  view.setUint32(4, parts.headerSize?.height ?? parts.height);
  header[8] = parts.bitDepth;
  header[9] = parts.colorType;
  const pieces = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header)];
  if (parts.palette) pieces.push(chunk('PLTE', parts.palette));
  for (const extra of parts.extra ?? []) pieces.push(chunk(extra.type, extra.data));
  if (!parts.headerOnly) {
    const rowLength = parts.rows[0]?.length ?? 0;
    const raw = new Uint8Array(parts.rows.length * (rowLength + 1));
    parts.rows.forEach((row, index) => raw.set(row, index * (rowLength + 1) + 1));
    pieces.push(chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0)));
  }
  const out = new Uint8Array(pieces.reduce((total, piece) => total + piece.length, 0));
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}

/** Packs samples of `bitDepth` bits (1, 2, 4, 8 or 16, big-endian) into one PNG row. */
export function packRow(samples: readonly number[], bitDepth: number): Uint8Array {
  if (bitDepth === 16) {
    const out = new Uint8Array(samples.length * 2);
    samples.forEach((sample, index) => {
      out[index * 2] = sample >> 8;
      out[index * 2 + 1] = sample & 0xff;
    });
    return out;
  }
  const perByte = 8 / bitDepth;
  const out = new Uint8Array(Math.ceil(samples.length / perByte));
  samples.forEach((sample, index) => {
    out[Math.floor(index / perByte)]! |= sample << (8 - bitDepth * ((index % perByte) + 1));
  });
  return out;
}

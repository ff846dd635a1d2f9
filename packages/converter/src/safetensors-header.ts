import { VideoLlavaError, elementCount } from '@video-llava/core';

/** The element types a safetensors checkpoint may store that the converter reads. */
export type SafetensorsFloatType = 'F32' | 'F16' | 'BF16';

/** Every safetensors dtype name, with its size in bytes. */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<string, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

/** One tensor of a safetensors file, located in the file. */
export interface SafetensorsTensorInfo {
  /** The tensor's name in the checkpoint. */
  name: string;
  /** safetensors dtype (`F32`, `F16`, `BF16`, ...). */
  dtype: string;
  /** Dimensions. */
  shape: number[];
  /** Absolute byte offset of the first byte in the file. */
  start: number;
  /** Absolute byte offset one past the last byte. */
  end: number;
  /** The file the tensor is in (path or name, for messages and for reading). */
  file: string;
}

/** A parsed safetensors header. */
export interface SafetensorsHeader {
  /** Tensors in file order (by offset). */
  tensors: SafetensorsTensorInfo[];
  /** `__metadata__`, when present. */
  metadata: Record<string, string>;
  /** Absolute offset where the data section begins (8 + header length). */
  dataStart: number;
}

/** The most header bytes accepted (the format allows 100 MB). */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

function invalid(file: string, field: string, message: string, expected: unknown, actual: unknown): never {
  throw new VideoLlavaError('INVALID_FILE', `${file}: ${message}`, { file, field, expected, actual });
}

/**
 * Reads the 8-byte little-endian header length at the start of a safetensors file and checks it fits.
 * @returns the header's length in bytes
 */
export function readSafetensorsHeaderLength(prefix: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < 8 || prefix.byteLength < 8) {
    invalid(
      file,
      'header',
      `is ${fileSize} bytes, too short for a safetensors file (it starts with an 8-byte header length).`,
      'at least 8 bytes',
      fileSize,
    );
  }
  const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(SAFETENSORS_MAX_HEADER_BYTES) || length < 2n) {
    invalid(
      file,
      'header',
      `declares a ${length}-byte JSON header; a safetensors header is 2 to ${SAFETENSORS_MAX_HEADER_BYTES} bytes. The file is not safetensors or is corrupt.`,
      `2..${SAFETENSORS_MAX_HEADER_BYTES}`,
      length,
    );
  }
  const headerLength = Number(length);
  if (8 + headerLength > fileSize) {
    invalid(
      file,
      'header',
      `declares a ${headerLength}-byte header but the file has only ${fileSize - 8} bytes after the length: the file is truncated.`,
      `${headerLength} header bytes`,
      fileSize - 8,
    );
  }
  return headerLength;
}

/**
 * Parses and validates a safetensors header: JSON shape, dtypes, shapes, data offsets that agree with dtype x
 * shape, lie inside the file, and do not overlap.
 *
 * @param headerBytes the JSON header bytes (after the 8-byte length)
 * @param fileSize the whole file's size in bytes
 * @param file the file's path, for messages
 * @throws VideoLlavaError `INVALID_FILE` naming the file and the tensor (as `field`)
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  const dataStart = 8 + headerBytes.byteLength;
  const dataBytes = fileSize - dataStart;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (error) {
    throw new VideoLlavaError(
      'INVALID_FILE',
      `${file}: the safetensors header is not valid JSON (${(error as Error).message}).`,
      {
        file,
        field: 'header',
        expected: 'a JSON object',
        actual: 'malformed JSON',
        cause: error,
      },
    );
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    invalid(file, 'header', 'the safetensors header must be a JSON object.', 'a JSON object', json);
  const tensors: SafetensorsTensorInfo[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null)
        invalid(file, '__metadata__', '__metadata__ must be an object of strings.', 'an object', value);
      metadata = value as Record<string, string>;
      continue;
    }
    if (typeof value !== 'object' || value === null)
      invalid(
        file,
        name,
        `tensor "${name}" must be an object with dtype, shape and data_offsets.`,
        '{dtype, shape, data_offsets}',
        value,
      );
    const entry = value as Record<string, unknown>;
    const dtype = entry['dtype'];
    if (typeof dtype !== 'string' || !Object.hasOwn(SAFETENSORS_DTYPE_BYTES, dtype)) {
      invalid(
        file,
        name,
        `tensor "${name}" has dtype ${JSON.stringify(dtype)}; expected one of ${Object.keys(SAFETENSORS_DTYPE_BYTES).join(', ')}.`,
        Object.keys(SAFETENSORS_DTYPE_BYTES),
        dtype,
      );
    }
    const shape = entry['shape'];
    if (!Array.isArray(shape) || !shape.every((dim) => Number.isSafeInteger(dim) && (dim as number) >= 0)) {
      invalid(
        file,
        name,
        `tensor "${name}" has shape ${JSON.stringify(shape)}; expected a list of non-negative integers.`,
        'a list of non-negative integers',
        shape,
      );
    }
    const offsets = entry['data_offsets'];
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((offset) => Number.isSafeInteger(offset) && (offset as number) >= 0) ||
      (offsets[0] as number) > (offsets[1] as number)
    ) {
      invalid(
        file,
        name,
        `tensor "${name}" has data_offsets ${JSON.stringify(offsets)}; expected [begin, end] with 0 <= begin <= end.`,
        '[begin, end]',
        offsets,
      );
    }
    const [begin, end] = offsets as [number, number];
    const expectedBytes = elementCount(shape as number[]) * SAFETENSORS_DTYPE_BYTES[dtype]!;
    if (end - begin !== expectedBytes) {
      invalid(
        file,
        name,
        `tensor "${name}" is ${dtype}[${(shape as number[]).join(',')}] (${expectedBytes} bytes) but its data_offsets [${begin}, ${end}] span ${end - begin} bytes.`,
        expectedBytes,
        end - begin,
      );
    }
    if (end > dataBytes) {
      invalid(
        file,
        name,
        `tensor "${name}" has data_offsets [${begin}, ${end}] but the file holds only ${dataBytes} data bytes: the offsets run past the end of the file (the file is truncated or its header is corrupt).`,
        `end <= ${dataBytes}`,
        end,
      );
    }
    tensors.push({ name, dtype, shape: shape as number[], start: dataStart + begin, end: dataStart + end, file });
  }
  tensors.sort((a, b) => a.start - b.start || a.end - b.end);
  for (let index = 1; index < tensors.length; index++) {
    const previous = tensors[index - 1]!;
    const current = tensors[index]!;
    if (current.start < previous.end && current.end > current.start && previous.end > previous.start) {
      invalid(
        file,
        current.name,
        `tensors "${previous.name}" (bytes ${previous.start - dataStart}..${previous.end - dataStart}) and "${current.name}" (bytes ${current.start - dataStart}..${current.end - dataStart}) overlap in the data section: the header is corrupt.`,
        `begin >= ${previous.end - dataStart}`,
        current.start - dataStart,
      );
    }
  }
  return { tensors, metadata, dataStart };
}

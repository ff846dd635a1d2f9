import { readFileSync, writeFileSync } from 'node:fs';
import { Tensor, VideoLlavaError, type DataType } from '@video-llava/core';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR_TO_DTYPE: Record<string, DataType> = {
  '<f4': 'float32',
  '<f2': 'float16',
  '<i8': 'int64',
  '<i4': 'int32',
  '|i1': 'int8',
  '|u1': 'uint8',
  '<u1': 'uint8',
  '|b1': 'bool',
};

const DTYPE_TO_DESCR: Record<DataType, string> = {
  float32: '<f4',
  float16: '<f2',
  int64: '<i8',
  int32: '<i4',
  int8: '|i1',
  uint8: '|u1',
  bool: '|b1',
};

function fail(source: string, field: string, expected: string, actual: unknown): never {
  throw new VideoLlavaError(
    'INVALID_FILE',
    `${source}: .npy ${field} should be ${expected}, found ${String(actual)}.`,
    {
      file: source,
      field,
      expected,
      actual,
    },
  );
}

/**
 * Parses NumPy `.npy` bytes (format 1.0, 2.0 or 3.0; little-endian; C order) into a {@link Tensor}.
 * Fortran-ordered arrays and unknown dtypes are refused with a clear error.
 *
 * @param bytes the file's bytes
 * @param source a name for error messages (the path)
 */
export function parseNpy(bytes: Uint8Array, source = '<bytes>'): Tensor {
  if (bytes.length < 10 || MAGIC.some((value, index) => bytes[index] !== value)) {
    fail(source, 'magic', '\\x93NUMPY', JSON.stringify(String.fromCharCode(...bytes.subarray(0, 6))));
  }
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    fail(source, 'version', '1, 2 or 3', major);
  }
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(headerStart, headerStart + headerLength),
  );
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    fail(source, 'header', "{'descr', 'fortran_order', 'shape'}", header);
  if (fortran === 'True') fail(source, 'fortran_order', 'False (C order)', 'True');
  const dtype = DESCR_TO_DTYPE[descr];
  if (dtype === undefined) fail(source, 'descr', Object.keys(DESCR_TO_DTYPE).join(' '), descr);
  const dims = shapeText
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLength;
  const itemSize = { float32: 4, float16: 2, int64: 8, int32: 4, int8: 1, uint8: 1, bool: 1 }[dtype];
  const byteLength = count * itemSize;
  if (bytes.length - dataStart < byteLength)
    fail(source, 'data', `${byteLength} bytes`, `${bytes.length - dataStart} bytes`);
  // copy into an aligned buffer
  // Uint8Array.prototype.slice copies even for a Node Buffer, whose own slice() is a view of the whole file
  const copy = Uint8Array.prototype.slice.call(bytes, dataStart, dataStart + byteLength).buffer;
  switch (dtype) {
    case 'float32':
      return new Tensor(dtype, new Float32Array(copy), dims);
    case 'float16':
      return new Tensor(dtype, new Uint16Array(copy), dims);
    case 'int64':
      return new Tensor(dtype, new BigInt64Array(copy), dims);
    case 'int32':
      return new Tensor(dtype, new Int32Array(copy), dims);
    case 'int8':
      return new Tensor(dtype, new Int8Array(copy), dims);
    case 'uint8':
    case 'bool':
      return new Tensor(dtype, new Uint8Array(copy), dims);
  }
}

/** Serializes a {@link Tensor} as `.npy` (format 1.0, C order). */
export function serializeNpy(tensor: Tensor): Uint8Array {
  const descr = DTYPE_TO_DESCR[tensor.dtype];
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = 10 + header.length + 1;
  header += `${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  const headerBytes = new TextEncoder().encode(header);
  const data = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  const out = new Uint8Array(10 + headerBytes.length + data.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, headerBytes.length, true);
  out.set(headerBytes, 10);
  out.set(data, 10 + headerBytes.length);
  return out;
}

/** Reads a `.npy` file. */
export function readNpy(path: string): Tensor {
  return parseNpy(readFileSync(path), path);
}

/** Writes a `.npy` file. */
export function writeNpy(path: string, tensor: Tensor): void {
  writeFileSync(path, serializeNpy(tensor));
}

// What crosses between the test (Node.js) and the page (Chromium): tensors as base64, errors as their fields.
// Imported by both sides, so it uses only what both have (atob/btoa, TextEncoder).
import { type DataType, Tensor, VideoLlavaError, allocateTypedArray } from '@video-llava/core';

/** A tensor on the wire: a CPU tensor's bytes, or the id of a device tensor that stays in the page. */
export type WireTensor =
  | { kind: 'cpu'; dtype: DataType; dims: number[]; base64: string }
  | { kind: 'device'; id: number; dtype: DataType; dims: number[]; device: string; backend: string };

/** A VideoLlavaError's fields (or a plain error's message, as `code: ''`). */
export interface WireError {
  code: string;
  message: string;
  file?: string;
  field?: string;
  expected?: unknown;
  actual?: unknown;
}

/** Session options without functions and signals; bytes as base64. */
export interface WireSessionOptions {
  executionProviders?: unknown[];
  threads?: number;
  graphOptimizationLevel?: string;
  externalData?: Array<string | { path: string; data?: string | { base64: string } }>;
  outputLocation?: unknown;
  freeDimensionOverrides?: Record<string, number>;
  aborted?: boolean;
}

/** A model on the wire. */
export type WireModel =
  | { kind: 'location'; value: string }
  | { kind: 'bytes'; base64: string }
  | { kind: 'buffer'; base64: string };

export function bytesToBase64(bytes: Uint8Array): string {
  let text = '';
  for (let start = 0; start < bytes.length; start += 0x8000)
    text += String.fromCharCode(...bytes.subarray(start, start + 0x8000));
  return btoa(text);
}

export function base64ToBytes(base64: string): Uint8Array {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let index = 0; index < text.length; index++) bytes[index] = text.charCodeAt(index);
  return bytes;
}

export function encodeCpuTensor(tensor: Tensor): WireTensor {
  const view = tensor.data as ArrayBufferView;
  return {
    kind: 'cpu',
    dtype: tensor.dtype,
    dims: [...tensor.dims],
    base64: bytesToBase64(new Uint8Array(view.buffer, view.byteOffset, view.byteLength)),
  };
}

export function decodeCpuTensor(wire: WireTensor & { kind: 'cpu' }): Tensor {
  const bytes = base64ToBytes(wire.base64);
  const count = wire.dims.reduce((product, dim) => product * dim, 1);
  const data = allocateTypedArray(wire.dtype, count);
  new Uint8Array((data as ArrayBufferView).buffer).set(bytes);
  return new Tensor(wire.dtype, data, wire.dims);
}

function plain(value: unknown): unknown {
  if (value === undefined) return undefined;
  return JSON.parse(
    JSON.stringify(value, (_key, item: unknown) =>
      typeof item === 'bigint'
        ? `${item}n`
        : ArrayBuffer.isView(item)
          ? `${item.constructor.name}(${(item as unknown as { length: number }).length})`
          : item,
    ),
  );
}

export function encodeError(error: unknown): WireError {
  if (VideoLlavaError.isInstance(error)) {
    return {
      code: error.code,
      message: error.message,
      ...(error.file === undefined ? {} : { file: error.file }),
      ...(error.field === undefined ? {} : { field: error.field }),
      expected: plain(error.expected),
      actual: plain(error.actual),
    };
  }
  return { code: '', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
}

export function decodeError(wire: WireError): Error {
  if (wire.code === '') return new Error(`the page threw a plain error: ${wire.message}`);
  return new VideoLlavaError(wire.code, wire.message, {
    ...(wire.file === undefined ? {} : { file: wire.file }),
    ...(wire.field === undefined ? {} : { field: wire.field }),
    expected: wire.expected,
    actual: wire.actual,
  });
}

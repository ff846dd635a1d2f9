import { VideoLlavaError } from '@video-llava/core';
import type { DeferredBytes } from './types.js';

/** A piece of an encoded message: bytes already produced, or bytes produced when the message is streamed. */
export type MessagePart = Uint8Array | DeferredBytes;

/** Byte fields at least this long are kept as their own part instead of being copied. */
const SEPARATE_PART_BYTES = 64 * 1024;

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

const textEncoder = new TextEncoder();

/**
 * Writes one protobuf message as a list of parts: small fields are packed into shared buffers, large byte
 * fields (tensor data) stay separate so they are never copied, and {@link DeferredBytes} are kept as they are
 * so the message can be streamed. Nested messages are written into their own writer and appended with
 * {@link message}.
 */
export class ProtobufWriter {
  private readonly parts: MessagePart[] = [];
  private buffer = new Uint8Array(256);
  private position = 0;
  private flushedLength = 0;
  private readonly scratch = new DataView(new ArrayBuffer(8));

  /** Total encoded length so far. */
  get byteLength(): number {
    return this.flushedLength + this.position;
  }

  private reserve(bytes: number): void {
    if (this.position + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.position + bytes) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.position));
    this.buffer = grown;
  }

  private flush(): void {
    if (this.position === 0) return;
    this.parts.push(this.buffer.slice(0, this.position));
    this.flushedLength += this.position;
    this.position = 0;
  }

  /** Writes an unsigned varint; negative numbers are written as 64-bit two's complement (10 bytes). */
  varint(value: number | bigint): void {
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) {
        throw new VideoLlavaError('INVALID_ARGUMENT', `Protobuf integer ${value} is not a safe integer.`, {
          field: 'value',
          expected: 'an integer between -(2^53-1) and 2^53-1 (use a bigint beyond)',
          actual: value,
        });
      }
      if (value >= 0) {
        this.reserve(10);
        let rest = value;
        while (rest >= 0x80) {
          this.buffer[this.position++] = (rest % 0x80) | 0x80;
          rest = Math.floor(rest / 0x80);
        }
        this.buffer[this.position++] = rest;
        return;
      }
      value = BigInt(value);
    }
    let rest = BigInt.asUintN(64, value);
    this.reserve(10);
    while (rest >= 0x80n) {
      this.buffer[this.position++] = Number(rest & 0x7fn) | 0x80;
      rest >>= 7n;
    }
    this.buffer[this.position++] = Number(rest);
  }

  /** Writes a field key. */
  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  /** An int32/int64/enum/bool field. */
  integer(field: number, value: number | bigint | boolean): void {
    this.tag(field, WIRE_VARINT);
    this.varint(typeof value === 'boolean' ? (value ? 1 : 0) : value);
  }

  /** A `float` field (fixed32, little-endian). */
  float(field: number, value: number): void {
    this.tag(field, WIRE_FIXED32);
    this.scratch.setFloat32(0, value, true);
    this.reserve(4);
    for (let index = 0; index < 4; index++) this.buffer[this.position++] = this.scratch.getUint8(index);
  }

  /** A `bytes` field. Large arrays and deferred bytes become parts of their own (not copied). */
  bytes(field: number, value: MessagePart): void {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.varint(value.byteLength);
    if (value instanceof Uint8Array && value.byteLength < SEPARATE_PART_BYTES) {
      this.reserve(value.byteLength);
      this.buffer.set(value, this.position);
      this.position += value.byteLength;
      return;
    }
    this.flush();
    this.parts.push(value);
    this.flushedLength += value.byteLength;
  }

  /** A `string` field (UTF-8). */
  string(field: number, value: string | Uint8Array): void {
    this.bytes(field, typeof value === 'string' ? textEncoder.encode(value) : value);
  }

  /** A packed `repeated int64/int32` field. */
  packedIntegers(field: number, values: readonly (number | bigint)[]): void {
    const inner = new ProtobufWriter();
    for (const value of values) inner.varint(value);
    this.message(field, inner);
  }

  /** A packed `repeated float` field. */
  packedFloats(field: number, values: readonly number[]): void {
    const data = new Uint8Array(values.length * 4);
    const view = new DataView(data.buffer);
    values.forEach((value, index) => view.setFloat32(index * 4, value, true));
    this.bytes(field, data);
  }

  /** A nested message field. */
  message(field: number, inner: ProtobufWriter): void {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.varint(inner.byteLength);
    inner.flush();
    for (const part of inner.parts) {
      if (part instanceof Uint8Array && part.byteLength < SEPARATE_PART_BYTES) {
        this.reserve(part.byteLength);
        this.buffer.set(part, this.position);
        this.position += part.byteLength;
      } else {
        this.flush();
        this.parts.push(part);
        this.flushedLength += part.byteLength;
      }
    }
  }

  /** The encoded message as parts, in order. */
  finish(): MessagePart[] {
    this.flush();
    return this.parts.slice();
  }
}

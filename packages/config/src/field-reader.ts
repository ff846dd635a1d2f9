import { VideoLlavaError, describeValue } from '@video-llava/core';

type Json = Record<string, unknown>;

interface RangeOptions {
  min?: number;
  max?: number;
  /** Exclusive lower bound. */
  above?: number;
}

/**
 * Reads typed fields out of parsed JSON, with defaults, and throws `INVALID_CONFIG` errors that name the file,
 * the dotted field path, what was expected and what was found.
 */
export class FieldReader {
  constructor(
    readonly json: Json,
    readonly file: string,
    readonly prefix = '',
  ) {}

  /** Full dotted path of a field of this object. */
  path(name: string): string {
    return this.prefix ? `${this.prefix}.${name}` : name;
  }

  has(name: string): boolean {
    return this.json[name] !== undefined && this.json[name] !== null;
  }

  fail(name: string, expected: string, actual: unknown): never {
    throw new VideoLlavaError(
      'INVALID_CONFIG',
      `${this.file}: field "${this.path(name)}" should be ${expected}, found ${describeValue(actual)}.`,
      {
        file: this.file,
        field: this.path(name),
        expected,
        actual,
      },
    );
  }

  /**
   * Throws `UNSUPPORTED`: the value is one transformers accepts, but this library does not implement it
   * (another model type, a rope scaling it lacks).
   */
  unsupported(name: string, expected: string, actual: unknown): never {
    throw new VideoLlavaError(
      'UNSUPPORTED',
      `${this.file}: field "${this.path(name)}" is ${describeValue(actual)}, which video-llava.js does not support; expected ${expected}.`,
      {
        file: this.file,
        field: this.path(name),
        expected,
        actual,
      },
    );
  }

  private checkRange(name: string, value: number, range: RangeOptions, kind: string): number {
    const parts: string[] = [];
    if (range.min !== undefined) parts.push(`>= ${range.min}`);
    if (range.above !== undefined) parts.push(`> ${range.above}`);
    if (range.max !== undefined) parts.push(`<= ${range.max}`);
    const ok =
      (range.min === undefined || value >= range.min) &&
      (range.above === undefined || value > range.above) &&
      (range.max === undefined || value <= range.max);
    if (!ok) this.fail(name, `${kind} ${parts.join(' and ')}`, value);
    return value;
  }

  number(name: string, fallback: number, range: RangeOptions = {}): number {
    const value = this.json[name];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(name, 'a finite number', value);
    return this.checkRange(name, value, range, 'a number');
  }

  optionalNumber(name: string, range: RangeOptions = {}): number | null {
    if (!this.has(name)) return null;
    return this.number(name, 0, range);
  }

  integer(name: string, fallback: number, range: RangeOptions = {}): number {
    const value = this.json[name];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) this.fail(name, 'an integer', value);
    return this.checkRange(name, value, range, 'an integer');
  }

  optionalInteger(name: string, range: RangeOptions = {}): number | null {
    if (!this.has(name)) return null;
    return this.integer(name, 0, range);
  }

  positiveInteger(name: string, fallback: number): number {
    return this.integer(name, fallback, { min: 1 });
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.json[name];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean') this.fail(name, 'true or false', value);
    return value;
  }

  string(name: string, fallback: string): string {
    const value = this.json[name];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'string') this.fail(name, 'a string', value);
    return value;
  }

  optionalString(name: string): string | null {
    if (!this.has(name)) return null;
    return this.string(name, '');
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.json[name];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value))
      this.fail(name, `one of ${allowed.map((item) => JSON.stringify(item)).join(', ')}`, value);
    return value as T;
  }

  /** An integer or a list of integers (e.g. `eos_token_id`); always returned as a list. */
  integerList(name: string, fallback: number[]): number[] {
    const value = this.json[name];
    if (value === undefined || value === null) return fallback;
    if (typeof value === 'number' && Number.isSafeInteger(value)) return [value];
    if (Array.isArray(value) && value.every((item) => typeof item === 'number' && Number.isSafeInteger(item)))
      return value as number[];
    this.fail(name, 'an integer or a list of integers', value);
  }

  numberTriple(name: string, fallback: [number, number, number]): [number, number, number] {
    const value = this.json[name];
    if (value === undefined || value === null) return fallback;
    if (typeof value === 'number' && Number.isFinite(value)) return [value, value, value];
    if (
      Array.isArray(value) &&
      value.length === 3 &&
      value.every((item) => typeof item === 'number' && Number.isFinite(item))
    )
      return value as [number, number, number];
    this.fail(name, 'a list of 3 numbers', value);
  }

  /** A nested object as its own reader, or null when absent. */
  object(name: string): FieldReader | null {
    const value = this.json[name];
    if (value === undefined || value === null) return null;
    if (typeof value !== 'object' || Array.isArray(value)) this.fail(name, 'an object', value);
    return new FieldReader(value as Json, this.file, this.path(name));
  }
}

/** Checks that parsed JSON is an object at the top level. */
export function asJsonObject(value: unknown, file: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new VideoLlavaError(
      'INVALID_CONFIG',
      `${file}: expected a JSON object at the top level, found ${describeValue(value)}.`,
      {
        file,
        field: '(root)',
        expected: 'a JSON object',
        actual: Array.isArray(value) ? 'an array' : typeof value,
      },
    );
  }
  return value as Record<string, unknown>;
}

/** `line L, column C` of a character offset. */
function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  return `line ${before.split('\n').length}, column ${offset - before.lastIndexOf('\n')}`;
}

/**
 * Parses JSON text, naming the file and the line and column on failure (`field` holds the position, since
 * malformed JSON has no field names to point at).
 */
export function parseJsonText(text: string, file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = (error as Error).message;
    const offset = /position (\d+)/.exec(reason)?.[1];
    const where =
      offset === undefined
        ? text.trim() === ''
          ? 'the file is empty'
          : 'end of file'
        : lineAndColumn(text, Number(offset));
    throw new VideoLlavaError('INVALID_JSON', `${file}: invalid JSON at ${where} (${reason}).`, {
      file,
      field: where,
      expected: 'valid JSON',
      actual: text.length > 60 ? `${text.slice(0, 57)}...` : text,
      cause: error,
    });
  }
  return asJsonObject(value, file);
}

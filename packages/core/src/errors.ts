const marker = Symbol.for('@video-llava/error');

/**
 * Every stable error code, in one list (`docs/errors.md` explains each: what causes it and what to do).
 */
export const VIDEO_LLAVA_ERROR_CODES = [
  'INVALID_ARGUMENT',
  'FILE_NOT_FOUND',
  'INVALID_JSON',
  'INVALID_CONFIG',
  'UNSUPPORTED',
  'DOWNLOAD_FAILED',
  'INVALID_FILE',
  'DECODE_FAILED',
  'SHAPE_MISMATCH',
  'DTYPE_MISMATCH',
  'TOKEN_COUNT_MISMATCH',
  'SEQUENCE_TOO_LONG',
  'OUT_OF_MEMORY',
  'SESSION_RELEASED',
  'RUNTIME_ERROR',
  'ABORTED',
  'INVALID_CHECKPOINT',
] as const;

/**
 * Stable error codes. Match on `error.code`, never on message text. See {@link VIDEO_LLAVA_ERROR_CODES}.
 */
export type VideoLlavaErrorCode = (typeof VIDEO_LLAVA_ERROR_CODES)[number] | (string & {});

/** Where and how input was wrong: every field is optional, fill in what is known. */
export interface VideoLlavaErrorDetails {
  /** The file (path or URL) the problem is in. */
  file?: string;
  /** The field, argument or key inside that file or call, e.g. `text_config.hidden_size`. */
  field?: string;
  /** What would have been right, in words or as a value. */
  expected?: unknown;
  /** What was found instead. */
  actual?: unknown;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * The one error class of video-llava.js. Every package throws it (or a subclass) with a stable {@link code}
 * and typed details, so callers can react without parsing messages.
 */
export class VideoLlavaError extends Error {
  readonly [marker] = true;
  /** Stable machine-readable code. */
  readonly code: VideoLlavaErrorCode;
  /** The file (path or URL) the problem is in, when there is one. */
  readonly file: string | undefined;
  /** The field or argument the problem is in, when there is one. */
  readonly field: string | undefined;
  /** What would have been right. */
  readonly expected: unknown;
  /** What was found. */
  readonly actual: unknown;

  constructor(code: VideoLlavaErrorCode, message: string, details: VideoLlavaErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'VideoLlavaError';
    this.code = code;
    this.file = details.file;
    this.field = details.field;
    this.expected = details.expected;
    this.actual = details.actual;
  }

  /**
   * True for any video-llava.js error, even one thrown by another copy of this package
   * (two versions in one `node_modules`), where `instanceof` would say false.
   */
  static isInstance(value: unknown): value is VideoLlavaError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}

/** Formats a value for an error message: short, and unambiguous about its type. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) {
    const inner = value.slice(0, 8).map(describeValue).join(', ');
    return `[${inner}${value.length > 8 ? `, ... (${value.length} items)` : ''}]`;
  }
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as { length: number }).length})`;
  if (typeof value === 'object') {
    let json: string;
    try {
      // bigints (int64 data) and typed arrays inside objects: describe them rather than fail to serialize
      json = JSON.stringify(value, (_key, inner: unknown) =>
        typeof inner === 'bigint' ? `${inner}n` : ArrayBuffer.isView(inner) ? describeValue(inner) : inner,
      );
    } catch {
      json = Object.prototype.toString.call(value); // cycles and other values JSON cannot write
    }
    if (json === undefined) return String(value);
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
  }
  return String(value);
}

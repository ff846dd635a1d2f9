import { VideoLlavaError } from '@video-llava/core';

/** OpenAI's error types, as its clients read them (`error.type`). */
export type OpenAiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'timeout_error'
  | 'server_error';

/** The body of every error answer: `{"error": {"message", "type", "param", "code"}}`, as OpenAI's API sends it. */
export interface OpenAiErrorBody {
  error: {
    /** What was wrong and what would be right. */
    message: string;
    type: OpenAiErrorType;
    /** The request field at fault (`messages[0].content[1].video_url.url`), or null. */
    param: string | null;
    /** A stable code (`media_outside_root`, `queue_full`, ...), or null. */
    code: string | null;
  };
}

/**
 * An error answered with an HTTP status and an OpenAI-style body. Thrown inside the server; anything else thrown
 * while answering becomes one through {@link toHttpError}.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly type: OpenAiErrorType;
  readonly param: string | null;
  readonly code: string | null;
  /** Headers sent with the answer (`Retry-After`). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    type: OpenAiErrorType,
    message: string,
    details: { param?: string | null; code?: string | null; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'HttpError';
    this.status = status;
    this.type = type;
    this.param = details.param ?? null;
    this.code = details.code ?? null;
    this.headers = details.headers ?? {};
  }

  /** The JSON body. */
  body(): OpenAiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** A 400 naming the request field. */
export function invalidRequest(message: string, param: string | null, code = 'invalid_value'): HttpError {
  return new HttpError(400, 'invalid_request_error', message, { param, code });
}

// Codes that mean the request (its messages or media) was wrong, not the server.
const REQUEST_ERRORS = new Set([
  'INVALID_ARGUMENT',
  'TOKEN_COUNT_MISMATCH',
  'SEQUENCE_TOO_LONG',
  'DECODE_FAILED',
  'INVALID_FILE',
  'SHAPE_MISMATCH',
  'UNSUPPORTED',
  'FILE_NOT_FOUND',
  'INVALID_JSON',
]);

/**
 * The HTTP answer for anything thrown while answering: an {@link HttpError} as it is, a `VideoLlavaError` about the
 * request (placeholders and media disagree, an undecodable video, a prompt too long) as a 400 with its code in
 * lower case, anything else as a 500 whose message names no internals beyond the error's own message.
 *
 * @param param the request field a library error is about, when the caller knows it better than the error does
 */
export function toHttpError(error: unknown, param: string | null = null): HttpError {
  if (error instanceof HttpError) return error;
  if (VideoLlavaError.isInstance(error)) {
    if (REQUEST_ERRORS.has(error.code))
      return new HttpError(400, 'invalid_request_error', error.message, {
        param: param ?? error.field ?? null,
        code: error.code.toLowerCase(),
        cause: error,
      });
    return new HttpError(500, 'server_error', error.message, { code: error.code.toLowerCase(), cause: error });
  }
  return new HttpError(
    500,
    'server_error',
    `The server failed to answer: ${error instanceof Error ? error.message : String(error)}`,
    { code: 'internal_error', cause: error },
  );
}

import { VideoLlavaError, throwIfAborted } from '@video-llava/core';
import type { ReadOptions } from './source.js';

/** The `fetch` a source uses: the global one by default, injectable for tests, proxies or custom agents. */
export type FetchFunction = (input: string, init?: RequestInit) => Promise<Response>;

/** What one HTTP transfer is about, for progress events and error messages. */
export interface TransferTarget {
  /** The absolute URL requested. */
  url: string;
  /** The path inside the checkpoint (progress events carry it). */
  path: string;
  /** Appended to messages for 401 and 403 responses (e.g. how to pass a token). */
  accessHint?: string;
}

function isAbortError(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    ((error as { name?: string }).name === 'AbortError' || (error as { name?: string }).name === 'TimeoutError')
  );
}

function causeMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const inner = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${message}${inner}`;
}

/** `HTTP 404 Not Found` */
export function describeStatus(response: Response): string {
  return `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
}

/** The `ABORTED` error for a transfer the caller cancelled. */
export function abortedError(target: TransferTarget, cause: unknown): VideoLlavaError {
  return new VideoLlavaError('ABORTED', `The download of ${target.url} was aborted.`, { file: target.url, cause });
}

/** `FILE_NOT_FOUND` for a URL that answered 404 (or a cache that has no copy). */
export function fileNotFoundError(target: TransferTarget, actual: string, detail = ''): VideoLlavaError {
  return new VideoLlavaError(
    'FILE_NOT_FOUND',
    `${target.url}: no such file (${actual})${detail ? `; ${detail}` : ''}.`,
    {
      file: target.url,
      field: target.path,
      expected: 'an existing file',
      actual,
    },
  );
}

/** `DOWNLOAD_FAILED` for a response with an unexpected status. */
export function statusError(target: TransferTarget, response: Response, expected = 'HTTP 200'): VideoLlavaError {
  const status = describeStatus(response);
  const hint = (response.status === 401 || response.status === 403) && target.accessHint ? ` ${target.accessHint}` : '';
  return new VideoLlavaError(
    'DOWNLOAD_FAILED',
    `${target.url}: download failed with ${status} (expected ${expected}).${hint}`,
    {
      file: target.url,
      field: 'status',
      expected,
      actual: status,
    },
  );
}

/**
 * Calls `fetch`, turning a network failure into `DOWNLOAD_FAILED` and a cancellation into `ABORTED`,
 * both naming the URL.
 */
export async function request(
  fetchFunction: FetchFunction,
  target: TransferTarget,
  init: RequestInit,
  options: ReadOptions = {},
): Promise<Response> {
  throwIfAborted(options.signal, `download of ${target.url}`);
  try {
    return await fetchFunction(target.url, options.signal ? { ...init, signal: options.signal } : init);
  } catch (error) {
    if (options.signal?.aborted || isAbortError(error)) throw abortedError(target, error);
    throw new VideoLlavaError(
      'DOWNLOAD_FAILED',
      `${target.url}: request failed before any response (${causeMessage(error)}).`,
      {
        file: target.url,
        field: 'network',
        expected: 'an HTTP response',
        actual: causeMessage(error),
        cause: error,
      },
    );
  }
}

/** Parses a non-negative integer header such as `Content-Length`; undefined when absent or malformed. */
export function integerHeader(response: Response, name: string): number | undefined {
  const value = response.headers.get(name);
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

/**
 * The byte count the body must have, from `Content-Length`, when it is meaningful: a body the server
 * compressed is decoded by `fetch`, so its length then says nothing about the bytes we receive.
 */
export function expectedBodyLength(response: Response): number | undefined {
  const encoding = response.headers.get('content-encoding');
  if (encoding !== null && encoding.trim().toLowerCase() !== 'identity') return undefined;
  return integerHeader(response, 'content-length');
}

/** Where the bytes of a body go and how progress is counted. */
export interface BodySink {
  /** Receives each chunk in order. */
  write(chunk: Uint8Array): void | Promise<void>;
  /** Bytes already held before this body (a resumed download): progress counts from there. */
  offset?: number;
  /** The size of the whole file when known, for progress events. */
  total?: number;
}

/**
 * Streams a response body into `sink`, reporting progress, and checks that every byte the server announced
 * arrived. A connection that closes early, or a body shorter or longer than its `Content-Length`, is
 * `DOWNLOAD_FAILED` naming the URL, the bytes expected and the bytes received.
 *
 * @returns the number of bytes received
 */
export async function streamBody(
  response: Response,
  target: TransferTarget,
  sink: BodySink,
  options: ReadOptions = {},
): Promise<number> {
  const expected = expectedBodyLength(response);
  const offset = sink.offset ?? 0;
  const total = sink.total ?? (expected === undefined ? undefined : offset + expected);
  const report = (done: number): void =>
    options.onProgress?.({
      stage: 'download',
      file: target.path,
      done: offset + done,
      ...(total === undefined ? {} : { total }),
      unit: 'bytes',
    });
  let received = 0;
  report(0);
  if (response.body === null) {
    if (expected !== undefined && expected > 0) throw truncatedError(target, response, expected, 0);
    return 0;
  }
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
      if (expected !== undefined && received > expected) {
        throw new VideoLlavaError(
          'DOWNLOAD_FAILED',
          `${target.url}: the server sent more than the ${expected} bytes its Content-Length announced (${describeStatus(response)}).`,
          {
            file: target.url,
            field: 'content-length',
            expected,
            actual: received,
          },
        );
      }
      await sink.write(value);
      report(received);
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    if (VideoLlavaError.isInstance(error)) throw error;
    if (options.signal?.aborted || isAbortError(error)) throw abortedError(target, error);
    throw new VideoLlavaError(
      'DOWNLOAD_FAILED',
      `${target.url}: the connection broke after ${received}${expected === undefined ? '' : ` of ${expected}`} bytes (${describeStatus(response)}; ${causeMessage(error)}).`,
      { file: target.url, field: 'body', expected: expected ?? 'a complete body', actual: received, cause: error },
    );
  }
  if (expected !== undefined && received !== expected) throw truncatedError(target, response, expected, received);
  return received;
}

function truncatedError(
  target: TransferTarget,
  response: Response,
  expected: number,
  received: number,
): VideoLlavaError {
  return new VideoLlavaError(
    'DOWNLOAD_FAILED',
    `${target.url}: truncated download (${describeStatus(response)}), received ${received} of the ${expected} bytes announced by Content-Length.`,
    {
      file: target.url,
      field: 'content-length',
      expected,
      actual: received,
    },
  );
}

/** Streams a body into one `Uint8Array` (see {@link streamBody} for the checks). */
export async function readBody(
  response: Response,
  target: TransferTarget,
  options: ReadOptions = {},
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const length = await streamBody(
    response,
    target,
    {
      write: (chunk) => {
        chunks.push(chunk);
      },
    },
    options,
  );
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(length);
  let position = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, position);
    position += chunk.byteLength;
  }
  return bytes;
}

/** Releases a response body we do not read (keeps connections reusable). */
export async function discardBody(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

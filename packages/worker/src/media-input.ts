import { isAbsolute, resolve } from 'node:path';
import { VideoLlavaError } from '@video-llava/core';

/**
 * One video or image of a job as `VideoLlava.generate` takes it: a path (relative ones resolved against `root`), a
 * `file:` URL as it is, or the bytes of an `http(s):` URL (downloaded here, since the Node entry reads files).
 *
 * @throws VideoLlavaError `FILE_NOT_FOUND` (the server answered 4xx: bad input), `DOWNLOAD_FAILED` (network errors
 *   and 5xx: worth a retry)
 */
export async function mediaInput(
  value: string,
  root: string,
  field: string,
  signal?: AbortSignal,
): Promise<string | Uint8Array> {
  if (/^https?:\/\//i.test(value)) return download(value, field, signal);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) || isAbsolute(value)) return value;
  return resolve(root, value);
}

async function download(url: string, field: string, signal?: AbortSignal): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, signal ? { signal } : {});
  } catch (error) {
    throw new VideoLlavaError('DOWNLOAD_FAILED', `${field}: downloading ${url} failed (${(error as Error).message}).`, {
      file: url,
      field,
      cause: error,
    });
  }
  if (response.status >= 400 && response.status < 500) {
    throw new VideoLlavaError(
      'FILE_NOT_FOUND',
      `${field}: ${url} answered HTTP ${response.status}; the worker needs a URL it can read.`,
      { file: url, field, expected: 'HTTP 200', actual: response.status },
    );
  }
  if (!response.ok) {
    throw new VideoLlavaError('DOWNLOAD_FAILED', `${field}: ${url} answered HTTP ${response.status}.`, {
      file: url,
      field,
      expected: 'HTTP 200',
      actual: response.status,
    });
  }
  return new Uint8Array(await response.arrayBuffer());
}

import { VideoLlavaError } from '@video-llava/core';
import {
  type FetchFunction,
  type TransferTarget,
  discardBody,
  fileNotFoundError,
  readBody,
  request,
  statusError,
} from './download.js';
import { splitRelativePath } from './relative-path.js';
import type { ModelSource, ReadOptions } from './source.js';

/** Options of an {@link HttpSource}. */
export interface HttpSourceOptions {
  /**
   * Headers sent with every request (an `Authorization` header, say).
   * @default {}
   */
  headers?: Record<string, string>;
  /**
   * The `fetch` to use.
   * @default globalThis.fetch
   */
  fetch?: FetchFunction;
  /**
   * Appended to the message of a 401 or 403 response: how the user can get access.
   * @default ''
   */
  accessHint?: string;
}

function normalizeBaseUrl(baseUrl: string | URL): URL {
  let url: URL;
  try {
    url = new URL(String(baseUrl));
  } catch (error) {
    throw new VideoLlavaError('INVALID_ARGUMENT', `${JSON.stringify(String(baseUrl))} is not an absolute URL.`, {
      field: 'baseUrl',
      expected: 'an absolute http(s) URL, e.g. "https://example.com/models/video-llava/"',
      actual: String(baseUrl),
      cause: error,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new VideoLlavaError('INVALID_ARGUMENT', `${url.href}: only http and https URLs can serve a checkpoint.`, {
      field: 'baseUrl',
      expected: 'an http: or https: URL',
      actual: url.protocol,
    });
  }
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/**
 * A checkpoint served over HTTP: file `path` is `GET {baseUrl}/{path}`. Works wherever `fetch` does
 * (browsers, Node 18+, workers). A 404 is `FILE_NOT_FOUND`; any other failure, including a body that ends
 * before its `Content-Length`, is `DOWNLOAD_FAILED`; both name the URL.
 *
 * @example
 * ```ts
 * const source = new HttpSource('https://example.com/models/video-llava-7b/');
 * const config = await loadPretrainedConfig(source);
 * ```
 */
export class HttpSource implements ModelSource {
  /** The base URL, always ending in `/`. */
  readonly baseUrl: string;
  readonly description: string;
  /** Headers sent with every request. */
  protected readonly headers: Record<string, string>;
  /** The `fetch` in use. */
  protected readonly fetchFunction: FetchFunction;
  private readonly accessHint: string;

  constructor(baseUrl: string | URL, options: HttpSourceOptions = {}) {
    this.baseUrl = normalizeBaseUrl(baseUrl).href;
    this.description = this.baseUrl.replace(/\/$/, '');
    this.headers = { ...options.headers };
    this.accessHint = options.accessHint ?? '';
    const fetchFunction = options.fetch ?? (globalThis as { fetch?: FetchFunction }).fetch;
    if (typeof fetchFunction !== 'function') {
      throw new VideoLlavaError('UNSUPPORTED', 'This JavaScript runtime has no global fetch; pass options.fetch.', {
        field: 'fetch',
        expected: 'a fetch function',
        actual: typeof fetchFunction,
      });
    }
    this.fetchFunction = fetchFunction;
  }

  /** The absolute URL of a file of the checkpoint (each segment percent-encoded). */
  fileUrl(path: string): string {
    const segments = splitRelativePath(path);
    return new URL(segments.map(encodeURIComponent).join('/'), this.baseUrl).href;
  }

  /** What a transfer of `path` is about, for messages. */
  protected target(path: string): TransferTarget {
    return { url: this.fileUrl(path), path, accessHint: this.accessHint };
  }

  async exists(path: string, options: ReadOptions = {}): Promise<boolean> {
    const target = this.target(path);
    const response = await request(this.fetchFunction, target, { method: 'HEAD', headers: this.headers }, options);
    await discardBody(response);
    if (response.ok) return true;
    if (response.status === 404 || response.status === 410) return false;
    throw statusError(target, response, 'HTTP 200 or 404');
  }

  async readBytes(path: string, options: ReadOptions = {}): Promise<Uint8Array> {
    const target = this.target(path);
    const response = await request(this.fetchFunction, target, { method: 'GET', headers: this.headers }, options);
    if (response.status === 404 || response.status === 410) {
      await discardBody(response);
      throw fileNotFoundError(target, `HTTP ${response.status}`, response.headers.get('x-error-message') ?? '');
    }
    if (response.status !== 200) {
      await discardBody(response);
      throw statusError(target, response);
    }
    return readBody(response, target, options);
  }

  async readText(path: string, options: ReadOptions = {}): Promise<string> {
    return new TextDecoder().decode(await this.readBytes(path, options));
  }
}

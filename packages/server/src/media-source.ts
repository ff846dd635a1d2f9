import { HttpError, invalidRequest } from './openai-error.js';
import type { MediaRoot } from './media-root.js';

/** Where one image or video of a request comes from, and the request field that named it. */
export interface MediaReference {
  kind: 'image' | 'video';
  url: string;
  /** `messages[0].content[1].video_url.url`, for errors. */
  param: string;
}

/** How media references are read. */
export interface MediaSourceOptions {
  /** Paths and `file:` URLs are read under this root; without one they are refused. */
  mediaRoot?: MediaRoot | undefined;
  /** Whether http(s) URLs are fetched. */
  allowRemoteMedia: boolean;
  /** The most bytes one remote file may have. */
  maxRemoteBytes: number;
  /** Cancels a download. */
  signal?: AbortSignal | undefined;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The bytes of a `data:` URL (base64 or percent-encoded). */
export function decodeDataUrl(url: string, param: string): Uint8Array {
  const comma = url.indexOf(',');
  if (comma < 0)
    throw invalidRequest(
      `${param} is a data: URL without a comma: expected data:<type>;base64,<data>.`,
      param,
      'invalid_data_url',
    );
  const header = url.slice(5, comma);
  const payload = url.slice(comma + 1);
  if (/;base64$/i.test(header)) {
    const compact = payload.replace(/\s+/g, '');
    if (compact.length % 4 === 1 || !BASE64.test(compact))
      throw invalidRequest(`${param} is not valid base64 after "data:${header},".`, param, 'invalid_data_url');
    const bytes = Buffer.from(compact, 'base64');
    if (bytes.length === 0) throw invalidRequest(`${param} is an empty data: URL.`, param, 'invalid_data_url');
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  try {
    const bytes = Buffer.from(decodeURIComponent(payload), 'latin1');
    if (bytes.length === 0) throw invalidRequest(`${param} is an empty data: URL.`, param, 'invalid_data_url');
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw invalidRequest(`${param} is a data: URL with invalid percent-encoding.`, param, 'invalid_data_url');
  }
}

async function download(url: string, param: string, options: MediaSourceOptions): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', ...(options.signal ? { signal: options.signal } : {}) });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw invalidRequest(
      `${param}: downloading ${url} failed (${(error as Error).message}).`,
      param,
      'media_download_failed',
    );
  }
  if (!response.ok)
    throw invalidRequest(`${param}: ${url} answered HTTP ${response.status}.`, param, 'media_download_failed');
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > options.maxRemoteBytes)
    throw invalidRequest(
      `${param}: ${url} has ${declared} bytes, more than the ${options.maxRemoteBytes} allowed.`,
      param,
      'media_too_large',
    );
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > options.maxRemoteBytes)
      throw invalidRequest(
        `${param}: ${url} has more than the ${options.maxRemoteBytes} bytes allowed.`,
        param,
        'media_too_large',
      );
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * The bytes a media reference names: a `data:` URL, an http(s) URL (only with `allowRemoteMedia`), else a path or
 * `file:` URL under the media root.
 *
 * @throws HttpError 400 (malformed, missing, remote media disabled, download failed), 403 (outside the media root)
 */
export async function readMedia(reference: MediaReference, options: MediaSourceOptions): Promise<Uint8Array> {
  const { url, param } = reference;
  if (/^data:/i.test(url)) return decodeDataUrl(url, param);
  if (/^https?:\/\//i.test(url)) {
    if (!options.allowRemoteMedia)
      throw invalidRequest(
        `${param}: http(s) media URLs are off on this server (start it with --allow-remote-media); send a data: URL or a path under the media root.`,
        param,
        'remote_media_disabled',
      );
    return download(url, param, options);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^file:/i.test(url)) {
    throw invalidRequest(
      `${param}: unsupported URL scheme in ${JSON.stringify(url.slice(0, 40))}; expected a data: URL, a path or a file: URL.`,
      param,
      'invalid_media_url',
    );
  }
  if (!options.mediaRoot) {
    throw invalidRequest(
      `${param}: ${JSON.stringify(url.slice(0, 80))} is a path, but this server has no media root (start it with --media-root DIR); send a data: URL instead.`,
      param,
      'media_root_not_set',
    );
  }
  return options.mediaRoot.read(url, param);
}

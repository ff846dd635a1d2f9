import { type ProgressCallback, VideoLlavaError } from '@video-llava/core';

/** How {@link fetchFile} downloads and caches. */
export interface FetchFileOptions {
  /** The fetch to use. */
  fetch: typeof fetch;
  /** The Cache API cache to keep files in, or `false`. */
  cacheName: string | false;
  /** What the file is, for messages: `"model"`, `"external data file"`. */
  what: string;
  onProgress?: ProgressCallback | undefined;
  signal?: AbortSignal | undefined;
}

async function openCache(name: string | false, url: URL): Promise<Cache | undefined> {
  if (name === false || (url.protocol !== 'http:' && url.protocol !== 'https:') || typeof caches === 'undefined')
    return undefined;
  try {
    return await caches.open(name);
  } catch {
    // Caches can be unavailable (an opaque origin, storage disabled): downloading without one still works.
    return undefined;
  }
}

function aborted(url: URL, signal: AbortSignal): VideoLlavaError {
  return new VideoLlavaError('ABORTED', `The download of ${url.href} was aborted.`, {
    file: url.href,
    cause: signal.reason,
  });
}

/**
 * Downloads a file with progress events, from the Cache API when it was kept there before (the response is then
 * stored for next time). A cache hit reports one progress event with the whole size.
 *
 * @throws VideoLlavaError `FILE_NOT_FOUND` (HTTP 404/410), `DOWNLOAD_FAILED`, `ABORTED`
 */
export async function fetchFile(url: URL, options: FetchFileOptions): Promise<Uint8Array> {
  const { signal, onProgress } = options;
  const cache = await openCache(options.cacheName, url);
  const cached = await cache?.match(url.href).catch(() => undefined);
  if (cached !== undefined) {
    const bytes = new Uint8Array(await cached.arrayBuffer());
    onProgress?.({ stage: 'download', file: url.href, done: bytes.byteLength, total: bytes.byteLength, unit: 'bytes' });
    return bytes;
  }
  let response: Response;
  try {
    response = await options.fetch(url.href, signal === undefined ? {} : { signal });
  } catch (error) {
    if (signal?.aborted) throw aborted(url, signal);
    throw new VideoLlavaError(
      'DOWNLOAD_FAILED',
      `Downloading the ${options.what} ${url.href} failed: ${error instanceof Error ? error.message : String(error)}`,
      { file: url.href, cause: error },
    );
  }
  if (response.status === 404 || response.status === 410) {
    throw new VideoLlavaError(
      'FILE_NOT_FOUND',
      `The ${options.what} ${url.href} does not exist (HTTP ${response.status}).`,
      { file: url.href, expected: 'HTTP 200', actual: response.status },
    );
  }
  if (!response.ok) {
    throw new VideoLlavaError(
      'DOWNLOAD_FAILED',
      `Downloading the ${options.what} ${url.href} failed with HTTP ${response.status} ${response.statusText}.`,
      { file: url.href, expected: 'HTTP 200', actual: response.status },
    );
  }
  const header = response.headers.get('content-length');
  const total = header === null ? undefined : Number(header);
  const chunks: Uint8Array[] = [];
  let done = 0;
  try {
    if (response.body === null) {
      chunks.push(new Uint8Array(await response.arrayBuffer()));
      done = chunks[0]!.byteLength;
      onProgress?.({ stage: 'download', file: url.href, done, total: done, unit: 'bytes' });
    } else {
      const reader = response.body.getReader();
      for (;;) {
        const { value, done: finished } = await reader.read();
        if (finished) break;
        chunks.push(value);
        done += value.byteLength;
        onProgress?.({
          stage: 'download',
          file: url.href,
          done,
          ...(total !== undefined && Number.isFinite(total) ? { total } : {}),
          unit: 'bytes',
        });
      }
    }
  } catch (error) {
    if (signal?.aborted) throw aborted(url, signal);
    throw new VideoLlavaError(
      'DOWNLOAD_FAILED',
      `Downloading the ${options.what} ${url.href} failed after ${done} bytes: ${error instanceof Error ? error.message : String(error)}`,
      { file: url.href, cause: error },
    );
  }
  const bytes = new Uint8Array(done);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  if (cache !== undefined) {
    const headers = {
      'content-type': response.headers.get('content-type') ?? 'application/octet-stream',
      'content-length': String(done),
    };
    // A full quota only costs the next load a download.
    await cache.put(url.href, new Response(bytes, { headers })).catch(() => undefined);
  }
  return bytes;
}

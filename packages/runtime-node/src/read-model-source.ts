import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ProgressCallback, VideoLlavaError, describeValue } from '@video-llava/core';
import { type ModelFile, inspectOnnxModel } from '@video-llava/runtime';

/** A model resolved to what onnxruntime-node loads: a local path (memory-mapped), or bytes with their origin. */
export type ResolvedModel = { kind: 'path'; path: string } | { kind: 'bytes'; bytes: Uint8Array; baseUrl?: URL };

function isUrlString(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /^(data|blob):/i.test(value);
}

/** Throws FILE_NOT_FOUND when `path` is not a file. */
export async function assertFile(path: string, what: string): Promise<void> {
  const found = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw new VideoLlavaError('FILE_NOT_FOUND', `Cannot read ${what} ${path}: ${error.message}`, {
      file: path,
      cause: error,
    });
  });
  if (found === undefined)
    throw new VideoLlavaError('FILE_NOT_FOUND', `The ${what} ${path} does not exist.`, {
      file: path,
      expected: 'an existing file',
      actual: 'missing',
    });
  if (!found.isFile())
    throw new VideoLlavaError('FILE_NOT_FOUND', `The ${what} ${path} is not a file.`, {
      file: path,
      expected: 'a file',
      actual: found.isDirectory() ? 'a directory' : 'not a regular file',
    });
}

/**
 * Downloads a URL into memory with progress (onnxruntime-node can only memory-map local files).
 * @throws VideoLlavaError `FILE_NOT_FOUND` (404/410), `DOWNLOAD_FAILED`, `ABORTED`
 */
export async function downloadBytes(
  url: URL,
  onProgress: ProgressCallback | undefined,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, signal === undefined ? {} : { signal });
  } catch (error) {
    if (signal?.aborted)
      throw new VideoLlavaError('ABORTED', `The download of ${url.href} was aborted.`, {
        file: url.href,
        cause: signal.reason,
      });
    throw new VideoLlavaError(
      'DOWNLOAD_FAILED',
      `Downloading ${url.href} failed: ${error instanceof Error ? error.message : String(error)}`,
      { file: url.href, cause: error },
    );
  }
  if (response.status === 404 || response.status === 410) {
    throw new VideoLlavaError('FILE_NOT_FOUND', `${url.href} does not exist (HTTP ${response.status}).`, {
      file: url.href,
      expected: 'HTTP 200',
      actual: response.status,
    });
  }
  if (!response.ok || response.body === null) {
    throw new VideoLlavaError(
      'DOWNLOAD_FAILED',
      `Downloading ${url.href} failed with HTTP ${response.status} ${response.statusText}.`,
      { file: url.href, expected: 'HTTP 200', actual: response.status },
    );
  }
  const total = Number(response.headers.get('content-length') ?? Number.NaN);
  const chunks: Uint8Array[] = [];
  let done = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { value, done: finished } = await reader.read();
      if (finished) break;
      chunks.push(value);
      done += value.byteLength;
      onProgress?.({
        stage: 'download',
        file: url.href,
        done,
        ...(Number.isFinite(total) ? { total } : {}),
        unit: 'bytes',
      });
    }
  } catch (error) {
    if (signal?.aborted)
      throw new VideoLlavaError('ABORTED', `The download of ${url.href} was aborted.`, {
        file: url.href,
        cause: signal.reason,
      });
    throw new VideoLlavaError(
      'DOWNLOAD_FAILED',
      `Downloading ${url.href} failed after ${done} bytes: ${error instanceof Error ? error.message : String(error)}`,
      { file: url.href, cause: error },
    );
  }
  const bytes = new Uint8Array(done);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * Resolves a {@link ModelFile}: paths and `file:` URLs stay paths (checked to exist), `http(s):` URLs are
 * downloaded, bytes are used as they are.
 */
export async function resolveModel(
  model: ModelFile,
  onProgress: ProgressCallback | undefined,
  signal: AbortSignal | undefined,
): Promise<ResolvedModel> {
  if (model instanceof Uint8Array) return { kind: 'bytes', bytes: model };
  if (model instanceof ArrayBuffer) return { kind: 'bytes', bytes: new Uint8Array(model) };
  if (typeof model === 'string' && !isUrlString(model)) {
    const path = isAbsolute(model) ? model : resolve(model);
    await assertFile(path, 'model file');
    return { kind: 'path', path };
  }
  if (typeof model !== 'string' && !(model instanceof URL)) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `A model is a path, a URL or bytes (Uint8Array, ArrayBuffer), found ${describeValue(model)}.`,
      {
        field: 'model',
        expected: 'string | URL | Uint8Array | ArrayBuffer',
        actual: describeValue(model),
      },
    );
  }
  const url = new URL(model.toString());
  if (url.protocol === 'file:') {
    const path = fileURLToPath(url);
    await assertFile(path, 'model file');
    return { kind: 'path', path };
  }
  if (url.protocol === 'http:' || url.protocol === 'https:')
    return { kind: 'bytes', bytes: await downloadBytes(url, onProgress, signal), baseUrl: url };
  throw new VideoLlavaError(
    'INVALID_ARGUMENT',
    `onnxruntime-node loads models from paths, file:, http: and https: URLs, or bytes; found a ${url.protocol} URL.`,
    {
      field: 'model',
      expected: 'a path, a file:/http:/https: URL, or bytes',
      actual: url.protocol,
    },
  );
}

/** Reads a file wholly (external data that cannot be memory-mapped by onnxruntime-node, because it is not beside the model). */
export async function readWholeFile(path: string, what: string): Promise<Uint8Array> {
  await assertFile(path, what);
  return readFile(path);
}

/** Past this size a model file is not read for the external data files it names (it holds its weights itself). */
const LARGEST_MODEL_TO_SCAN = 256 * 1024 * 1024;

/**
 * The external data files a model file names (relative to its folder), or undefined for a file over 256 MiB, which
 * is not read for them.
 */
export async function externalDataFilesOf(path: string): Promise<string[] | undefined> {
  if ((await stat(path)).size > LARGEST_MODEL_TO_SCAN) return undefined;
  return inspectOnnxModel(await readWholeFile(path, 'model file'))?.externalDataFiles ?? [];
}

/** The folder of a model path. */
export function modelFolder(path: string): string {
  return dirname(path);
}

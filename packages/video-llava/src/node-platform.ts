import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveSource } from '@video-llava/config/node';
import { VideoLlavaError, describeValue } from '@video-llava/core';
import { loadImage } from '@video-llava/image-processor/node';
import { createNodeBackend } from '@video-llava/runtime-node';
import { loadVideo } from '@video-llava/video-processor/node';
import type { VideoLlavaPlatform } from './platform.js';

/** A file's bytes, as `loadVideo` and `loadImage` take them besides paths. */
function isBytes(value: unknown): value is Uint8Array | ArrayBuffer | Blob {
  return (
    value instanceof Uint8Array ||
    value instanceof ArrayBuffer ||
    (typeof Blob !== 'undefined' && value instanceof Blob)
  );
}

async function bytesOf(input: Uint8Array | ArrayBuffer | Blob): Promise<Uint8Array> {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  return new Uint8Array(await input.arrayBuffer());
}

function localPath(input: string | URL, field: string): string {
  const url = input instanceof URL ? input : /^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? new URL(input) : undefined;
  if (url === undefined) return input as string;
  if (url.protocol === 'file:') return fileURLToPath(url);
  throw new VideoLlavaError(
    'UNSUPPORTED',
    `${url.href}: in Node.js, videos and images are read from files; download it first (or pass its bytes).`,
    {
      file: url.href,
      field,
      expected: 'a file path, a file: URL or bytes',
      actual: url.protocol,
    },
  );
}

/** Node.js: onnxruntime-node, folders / URLs / hub ids through the hub cache, FFmpeg for videos, sharp for JPEG. */
export const nodePlatform: VideoLlavaPlatform = {
  name: 'node',
  createBackend: () => createNodeBackend(),
  resolveSource: (source, options) => resolveSource(source, options as Parameters<typeof resolveSource>[1]),
  isMediaFile: (input) => typeof input === 'string' || input instanceof URL || isBytes(input),
  async loadVideo(input, options) {
    if (typeof input === 'string' || input instanceof URL)
      return loadVideo(localPath(input, 'videos'), {
        numFrames: options.numFrames,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onWarning ? { onWarning: options.onWarning } : {}),
      });
    if (!isBytes(input)) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `A video must be a path, a file: URL or bytes, found ${describeValue(input)}.`,
        { field: 'videos', expected: 'a path, URL or bytes', actual: describeValue(input) },
      );
    }
    // FFmpeg reads files: bytes go through a private temporary file.
    const file = join(tmpdir(), `video-llava-${randomBytes(8).toString('hex')}`);
    await writeFile(file, await bytesOf(input), { mode: 0o600 });
    try {
      return await loadVideo(file, {
        numFrames: options.numFrames,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onWarning ? { onWarning: options.onWarning } : {}),
      });
    } finally {
      await rm(file, { force: true });
    }
  },
  async loadImage(input) {
    if (typeof input === 'string' || input instanceof URL) return loadImage(localPath(input, 'images'));
    if (isBytes(input)) return loadImage(await bytesOf(input));
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `An image must be a path, a file: URL or bytes, found ${describeValue(input)}.`,
      { field: 'images', expected: 'a path, URL or bytes', actual: describeValue(input) },
    );
  },
};

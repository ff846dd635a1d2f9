import { VideoLlavaError } from '@video-llava/core';

interface FileSystemPromises {
  readFile(path: string): Promise<Uint8Array>;
}

/** Node's `fs/promises`, reached without an import so that this package still bundles for browsers. */
function nodeFileSystem(): FileSystemPromises | undefined {
  const process = (
    globalThis as { process?: { versions?: { node?: string }; getBuiltinModule?: (name: string) => unknown } }
  ).process;
  if (process?.versions?.node === undefined) return undefined;
  return process.getBuiltinModule?.('fs/promises') as FileSystemPromises | undefined;
}

/** Whether this code runs in Node.js (where model files can be read by path). */
export function canReadLocalFiles(): boolean {
  return nodeFileSystem() !== undefined;
}

/**
 * Reads a local file in Node.js.
 * @throws VideoLlavaError `FILE_NOT_FOUND` when it is missing or not a file; `UNSUPPORTED` outside Node.js
 */
export async function readLocalFile(path: string, what: string): Promise<Uint8Array> {
  const fileSystem = nodeFileSystem();
  if (fileSystem === undefined) {
    throw new VideoLlavaError(
      'UNSUPPORTED',
      `Cannot read the ${what} ${path} by path here: paths need Node.js (20.16 or later); in a browser pass a URL or bytes.`,
      {
        file: path,
        expected: 'a URL or bytes',
        actual: path,
      },
    );
  }
  try {
    const bytes = await fileSystem.readFile(path);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const missing = code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
    throw new VideoLlavaError(
      'FILE_NOT_FOUND',
      missing ? `The ${what} ${path} does not exist.` : `Cannot read the ${what} ${path}: ${(error as Error).message}`,
      {
        file: path,
        expected: 'an existing file',
        actual: code ?? 'unreadable',
        cause: error,
      },
    );
  }
}

/** `name` resolved against the folder of the file `path` (either separator). */
export function besidePath(path: string, name: string): string {
  const cut = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return cut < 0 ? name : `${path.slice(0, cut + 1)}${name}`;
}

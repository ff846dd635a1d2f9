import { type FileHandle, open } from 'node:fs/promises';
import { VideoLlavaError } from '@video-llava/core';
import { type SafetensorsHeader, parseSafetensorsHeader, readSafetensorsHeaderLength } from '../safetensors-header.js';

async function readExactly(handle: FileHandle, position: number, length: number, file: string): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(out, done, length - done, position + done);
    if (bytesRead === 0) {
      throw new VideoLlavaError(
        'INVALID_FILE',
        `${file}: expected ${length} bytes at offset ${position} but the file ends after ${done}: it is truncated.`,
        {
          file,
          field: 'data',
          expected: length,
          actual: done,
        },
      );
    }
    done += bytesRead;
  }
  return out;
}

function notFound(file: string, error: unknown): VideoLlavaError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT')
    return new VideoLlavaError('FILE_NOT_FOUND', `${file}: no such file.`, {
      file,
      expected: 'an existing file',
      actual: 'missing',
      cause: error,
    });
  return new VideoLlavaError('INVALID_FILE', `${file}: cannot be read (${(error as Error).message}).`, {
    file,
    cause: error,
  });
}

/**
 * A safetensors file open for reading: its validated header, and reads of byte ranges by offset (the file is
 * never loaded whole).
 */
export class SafetensorsFile {
  private constructor(
    /** The file's path. */
    readonly path: string,
    /** The validated header. */
    readonly header: SafetensorsHeader,
    /** The file's size in bytes. */
    readonly size: number,
    private readonly handle: FileHandle,
  ) {}

  /**
   * Opens a file and validates its header (see `parseSafetensorsHeader`).
   * @throws VideoLlavaError `FILE_NOT_FOUND`, or `INVALID_FILE` for a truncated file or a corrupt header
   */
  static async open(path: string): Promise<SafetensorsFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw notFound(path, error);
    }
    try {
      const { size } = await handle.stat();
      const prefix = await readExactly(handle, 0, Math.min(8, size), path);
      const headerLength = readSafetensorsHeaderLength(prefix, size, path);
      const header = parseSafetensorsHeader(await readExactly(handle, 8, headerLength, path), size, path);
      return new SafetensorsFile(path, header, size, handle);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Reads `length` bytes at absolute `position`. */
  read(position: number, length: number): Promise<Uint8Array> {
    return readExactly(this.handle, position, length, this.path);
  }

  /** Closes the file. */
  close(): Promise<void> {
    return this.handle.close();
  }
}

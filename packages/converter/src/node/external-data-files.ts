import { type FileHandle, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { VideoLlavaError } from '@video-llava/core';
import { type ExternalDataPlacement, ExternalDataLayout } from '@video-llava/onnx';
import { writeFully } from './write-fully.js';

/** Options of {@link ExternalDataFiles}. */
export interface ExternalDataFilesOptions {
  /**
   * The most bytes one data file holds: a tensor that would end past it starts the next file (a tensor larger than
   * this alone gets a file of its own). Browsers cannot hold one buffer of 2 GiB or more, so files stay below.
   * @default 2 GiB - 64 MiB
   */
  chunkBytes?: number;
  /**
   * Each tensor starts at a multiple of this many bytes in its file, so runtimes can memory-map it.
   * @default 4096
   */
  alignment?: number;
}

/** One file written by {@link ExternalDataFiles}. */
export interface ExternalDataFileWritten {
  /** Its name beside the model (`decoder_model_merged.onnx_data_1`). */
  location: string;
  /** Its path on disk. */
  path: string;
  /** Its size in bytes. */
  bytes: number;
}

/** The default {@link ExternalDataFilesOptions.chunkBytes}: below 2 GiB, the size of the largest browser buffers. */
export const DEFAULT_EXTERNAL_DATA_CHUNK_BYTES = 2 ** 31 - 2 ** 26;

/**
 * Checks a chunk size of external data files.
 * @throws VideoLlavaError `INVALID_ARGUMENT` (field `externalDataChunkBytes`) unless it is a positive integer
 */
export function checkExternalDataChunkBytes(chunkBytes: number): void {
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `externalDataChunkBytes must be a positive integer (the most bytes in one external data file), found ${chunkBytes}.`,
      {
        field: 'externalDataChunkBytes',
        expected: 'a positive integer',
        actual: chunkBytes,
      },
    );
  }
}

/**
 * The external data of one ONNX file, written in chunks: `<name>`, then `<name>_1`, `<name>_2`, ... (the layout of
 * Hugging Face's exporters, e.g. `model.onnx_data`, `model.onnx_data_1`), each holding whole tensors and at most
 * `chunkBytes` bytes. A model whose weights fit in one chunk has the single file `<name>`, as before chunking.
 * Files are created on their first write; tensors are written in the order they were placed.
 */
export class ExternalDataFiles {
  /** The first file's name (the model file's name plus `_data`). */
  readonly location: string;
  /** The most bytes a file holds (unless a single tensor is larger). */
  readonly chunkBytes: number;
  readonly #directory: string;
  readonly #alignment: number;
  readonly #layouts: ExternalDataLayout[] = [];
  readonly #handles = new Map<string, Promise<FileHandle>>();
  readonly #positions = new Map<string, number>();
  #closed = false;

  /**
   * @param directory the folder the model file and its data files are written to
   * @param location the first data file's name, relative to the model (`decoder_model_merged.onnx_data`)
   */
  constructor(directory: string, location: string, options: ExternalDataFilesOptions = {}) {
    const chunkBytes = options.chunkBytes ?? DEFAULT_EXTERNAL_DATA_CHUNK_BYTES;
    checkExternalDataChunkBytes(chunkBytes);
    this.#directory = directory;
    this.location = location;
    this.chunkBytes = chunkBytes;
    this.#alignment = options.alignment ?? 4096;
    this.#layouts.push(new ExternalDataLayout(location, { alignment: this.#alignment }));
  }

  /** The name of chunk `index`: `<location>` for the first, `<location>_<index>` after it. */
  chunkName(index: number): string {
    return index === 0 ? this.location : `${this.location}_${index}`;
  }

  /** Places a tensor of `byteLength` bytes after everything placed so far, in the last file or, if it would end past `chunkBytes`, in a new one. */
  place(byteLength: number): ExternalDataPlacement {
    let layout = this.#layouts.at(-1)!;
    const offset = Math.ceil(layout.byteLength / this.#alignment) * this.#alignment;
    if (layout.byteLength > 0 && offset + byteLength > this.chunkBytes) {
      layout = new ExternalDataLayout(this.chunkName(this.#layouts.length), { alignment: this.#alignment });
      this.#layouts.push(layout);
    }
    return layout.place(byteLength);
  }

  /** Bytes placed in all files together (padding included). */
  get byteLength(): number {
    return this.#layouts.reduce((sum, layout) => sum + layout.byteLength, 0);
  }

  #handle(location: string): Promise<FileHandle> {
    let handle = this.#handles.get(location);
    if (handle === undefined) {
      handle = open(join(this.#directory, location), 'w+');
      this.#handles.set(location, handle);
    }
    return handle;
  }

  /** Appends `bytes` to the file `location` (the placement's `reference.location`). */
  async write(location: string, bytes: Uint8Array): Promise<void> {
    const handle = await this.#handle(location);
    const position = this.#positions.get(location) ?? 0;
    await writeFully(handle, bytes, position);
    this.#positions.set(location, position + bytes.byteLength);
  }

  /** Reads `length` bytes at `offset` of the file `location`, in pieces of at most `step` bytes. */
  async *read(location: string, offset: number, length: number, step = 16 * 1024 * 1024): AsyncGenerator<Uint8Array> {
    const handle = await this.#handle(location);
    for (let done = 0; done < length; done += step) {
      const size = Math.min(step, length - done);
      const buffer = new Uint8Array(size);
      let read = 0;
      while (read < size) {
        const { bytesRead } = await handle.read(buffer, read, size - read, offset + done + read);
        if (bytesRead === 0)
          throw new VideoLlavaError('INVALID_FILE', `Internal error: the weight data file ${location} ended early.`, {
            file: location,
            expected: offset + length,
            actual: offset + done + read,
          });
        read += bytesRead;
      }
      yield buffer;
    }
  }

  /** Whether every placed byte was written (each file as long as its layout). */
  checkComplete(): void {
    for (const layout of this.#layouts) {
      const written = this.#positions.get(layout.location) ?? 0;
      if (written !== layout.byteLength) {
        throw new VideoLlavaError(
          'RUNTIME_ERROR',
          `Internal error: wrote ${written} weight bytes to ${layout.location} but planned ${layout.byteLength}.`,
          { file: layout.location, expected: layout.byteLength, actual: written },
        );
      }
    }
  }

  /** The files written so far, in order, with their sizes on disk. */
  async files(): Promise<ExternalDataFileWritten[]> {
    const files: ExternalDataFileWritten[] = [];
    for (const layout of this.#layouts) {
      if (!this.#handles.has(layout.location)) continue;
      const path = join(this.#directory, layout.location);
      files.push({ location: layout.location, path, bytes: (await stat(path)).size });
    }
    return files;
  }

  /** Closes every file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const handles = [...this.#handles.values()];
    await Promise.all(handles.map(async (handle) => (await handle.catch(() => undefined))?.close()));
  }

  /** Closes and deletes every file (the weights went into the model file instead). */
  async remove(): Promise<void> {
    await this.close();
    await Promise.all(
      [...this.#handles.keys()].map((location) => rm(join(this.#directory, location), { force: true })),
    );
  }
}

import { VideoLlavaError } from '@video-llava/core';
import type { ExternalDataReference } from './types.js';

/** Where {@link ExternalDataLayout.place} put a tensor. */
export interface ExternalDataPlacement {
  /** The reference to store in the tensor's `externalData`. */
  reference: ExternalDataReference & { offset: number; length: number };
  /** Zero bytes to write to the data file before the tensor's bytes, to reach the aligned offset. */
  padding: number;
}

/** Options of {@link ExternalDataLayout}. */
export interface ExternalDataLayoutOptions {
  /**
   * Each tensor starts at a multiple of this many bytes, so runtimes can memory-map it.
   * @default 4096
   */
  alignment?: number;
}

/**
 * Plans an external data file written tensor by tensor: each {@link place} call returns the offset the
 * tensor's bytes go to and the padding to write first. The caller appends `padding` zero bytes and then the
 * tensor's bytes to the file; nothing is kept in memory.
 *
 * @example
 * const layout = new ExternalDataLayout('model.onnx_data');
 * const { reference, padding } = layout.place(weights.byteLength);
 * await file.write(new Uint8Array(padding)); await file.write(weights);
 * builder.initializer('w', { dataType: 'float32', dims: [4, 3], externalData: reference });
 */
export class ExternalDataLayout {
  /** The data file's name, relative to the `.onnx` file. */
  readonly location: string;
  /** Alignment of each tensor's offset in bytes. */
  readonly alignment: number;
  private end = 0;

  constructor(location: string, options: ExternalDataLayoutOptions = {}) {
    const alignment = options.alignment ?? 4096;
    if (!Number.isSafeInteger(alignment) || alignment < 1) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `ExternalDataLayout alignment must be a positive integer, found ${alignment}.`,
        {
          field: 'alignment',
          expected: 'a positive integer',
          actual: alignment,
        },
      );
    }
    if (location.length === 0 || location.includes('..') || location.startsWith('/')) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `External data location ${JSON.stringify(location)} must be a relative file name beside the model.`,
        {
          field: 'location',
          expected: 'a relative path without ".."',
          actual: location,
        },
      );
    }
    this.location = location;
    this.alignment = alignment;
  }

  /** Bytes in the data file so far (including padding). */
  get byteLength(): number {
    return this.end;
  }

  /** Places a tensor of `byteLength` bytes after everything placed so far. */
  place(byteLength: number): ExternalDataPlacement {
    if (!Number.isSafeInteger(byteLength) || byteLength < 0) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `External tensor byte length must be a non-negative integer, found ${byteLength}.`,
        {
          field: 'byteLength',
          expected: 'a non-negative integer',
          actual: byteLength,
        },
      );
    }
    const offset = Math.ceil(this.end / this.alignment) * this.alignment;
    const padding = offset - this.end;
    this.end = offset + byteLength;
    return { reference: { location: this.location, offset, length: byteLength }, padding };
  }
}

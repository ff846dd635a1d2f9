import { VideoLlavaError, elementCount, throwIfAborted } from '@video-llava/core';
import type { ExternalDataReference } from '@video-llava/onnx';
import { decodeFloat16, decodeFloats, encodeFloat16 } from '../float-conversion.js';
import { quantizeBlockwise, quantizeRowsInt8 } from '../quantize.js';
import { SAFETENSORS_DTYPE_BYTES } from '../safetensors-header.js';
import { WeightError } from '../weight-error.js';
import type { WeightJob } from '../weight-plan.js';
import type { ExternalDataFiles } from './external-data-files.js';
import type { SafetensorsFile } from './safetensors-file.js';

/** Reads slices of checkpoint tensors; returns float32 values. */
export interface TensorSliceReader {
  /** Elements `[first, first + count)` of a tensor (row-major), as float32. */
  readElements(job: WeightJob, first: number, count: number): Promise<Float32Array>;
}

/** Reads tensor slices from open safetensors files. */
export function safetensorsSliceReader(files: ReadonlyMap<string, SafetensorsFile>): TensorSliceReader {
  return {
    async readElements(job, first, count) {
      const source = job.source;
      const file = files.get(source.file);
      if (!file) throw new VideoLlavaError('INVALID_CHECKPOINT', `${source.file} is not open.`, { file: source.file });
      const size = SAFETENSORS_DTYPE_BYTES[source.dtype]!;
      return decodeFloats(await file.read(source.start + first * size, count * size), source.dtype);
    },
  };
}

/** Where a job's initializers landed in the data files. */
export interface WrittenWeights {
  references: Map<string, ExternalDataReference & { offset: number; length: number }>;
  /** Difference between the checkpoint's weights and what was stored. */
  error: WeightError;
}

/** Options of {@link writeWeights}. */
export interface WriteWeightsOptions {
  /** Source bytes read per step. @default 16 MiB */
  chunkBytes?: number;
  /** Called after each chunk with the source bytes just converted. */
  onBytes?: (bytes: number) => void;
  signal?: AbortSignal;
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * Runs weight jobs in order, writing every initializer into the external data files `files` (one file, or chunks
 * of a bounded size): each tensor is read in row chunks, converted (float32/float16, 4/8-bit blocks, int8 rows)
 * and written at once, so memory stays around `chunkBytes` whatever the model's size. Small per-row scales are
 * held until their tensor is done.
 */
export async function writeWeights(
  jobs: readonly WeightJob[],
  reader: TensorSliceReader,
  files: ExternalDataFiles,
  options: WriteWeightsOptions = {},
): Promise<WrittenWeights> {
  const chunkBytes = options.chunkBytes ?? 16 * 1024 * 1024;
  const references = new Map<string, ExternalDataReference & { offset: number; length: number }>();
  const error = new WeightError();
  for (const job of jobs) {
    throwIfAborted(options.signal, 'conversion');
    const placements = job.outputs.map((output) => ({ output, ...files.place(output.byteLength) }));
    for (const placement of placements) references.set(placement.output.name, placement.reference);
    const rows = job.source.shape[0] ?? 1;
    const rowElements = elementCount(job.source.shape.slice(1));
    const rowsPerChunk = Math.max(1, Math.floor(chunkBytes / (rowElements * 4)));
    const sourceBytesPerElement = SAFETENSORS_DTYPE_BYTES[job.source.dtype]!;
    const [first, ...rest] = placements;
    // Every output goes to the file it was placed in (an output past the chunk size starts the next file).
    const write = (bytes: Uint8Array) => files.write(first!.reference.location, bytes);
    await write(new Uint8Array(first!.padding));
    let scales: Float32Array | undefined;
    let zeroPoints: Uint8Array | undefined;
    if (job.kind === 'block-quantized') {
      scales = new Float32Array(job.outputs[1].byteLength / 4);
      zeroPoints = new Uint8Array(job.outputs[2].byteLength);
    } else if (job.kind === 'row-int8') {
      scales = new Float32Array(job.rows);
    }
    for (let row = 0; row < rows; row += rowsPerChunk) {
      const count = Math.min(rowsPerChunk, rows - row);
      const values = await reader.readElements(job, row * rowElements, count * rowElements);
      if (job.kind === 'float') {
        if (job.storeAs === 'float32') {
          await write(bytesOf(values));
        } else {
          const half = encodeFloat16(values);
          const back = decodeFloat16(half);
          for (let index = 0; index < values.length; index++) error.add(values[index]!, back[index]!);
          await write(bytesOf(half));
        }
      } else if (job.kind === 'block-quantized') {
        const quantized = quantizeBlockwise(values, count, job.columns, job.bits, job.blockSize, error);
        await write(quantized.packed);
        scales!.set(quantized.scales, row * (quantized.scales.length / count));
        zeroPoints!.set(quantized.zeroPoints, row * (quantized.zeroPoints.length / count));
      } else {
        const quantized = quantizeRowsInt8(values, count, job.columns, error);
        await write(bytesOf(quantized.values));
        scales!.set(quantized.scales, row);
      }
      options.onBytes?.(count * rowElements * sourceBytesPerElement);
    }
    const extras: Uint8Array[] =
      job.kind === 'block-quantized'
        ? [bytesOf(scales!), zeroPoints!]
        : job.kind === 'row-int8'
          ? [bytesOf(scales!)]
          : [];
    for (const [index, placement] of rest.entries()) {
      await files.write(placement.reference.location, new Uint8Array(placement.padding));
      await files.write(placement.reference.location, extras[index]!);
    }
  }
  files.checkComplete();
  return { references, error };
}

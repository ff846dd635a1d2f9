import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { type ProgressCallback, VideoLlavaError } from '@video-llava/core';
import { type DeferredBytes, createModel, encodeModelStream } from '@video-llava/onnx';
import { type BuildPartOptions, type BuiltPart, buildModelPart } from '../build-part.js';
import type { ConversionReport, ConvertedFile } from '../conversion-report.js';
import { DEFAULT_BLOCK_SIZE, checkBlockSize } from '../quantize.js';
import { MODEL_PARTS, type ModelPart, type WeightFormat, onnxFileName, parseWeightFormat } from '../weight-format.js';
import { type OpenedCheckpoint, openCheckpoint } from './checkpoint-directory.js';
import {
  DEFAULT_EXTERNAL_DATA_CHUNK_BYTES,
  ExternalDataFiles,
  checkExternalDataChunkBytes,
} from './external-data-files.js';
import { MODEL_FOLDER_FILES } from './model-folder-files.js';
import {
  CONVERSION_MANIFEST,
  type ConversionManifest,
  checkOutputApartFromSource,
  checkReplaceableOutput,
} from './output-folder.js';
import { type CheckpointSourceOptions, resolveCheckpointDirectory } from './resolve-checkpoint.js';
import { safetensorsSliceReader, writeWeights } from './weight-writer.js';
import { writeFully } from './write-fully.js';

/** Options of {@link convertCheckpoint}. */
export interface ConvertOptions extends CheckpointSourceOptions {
  /**
   * Weight formats to write; each adds its own files (`decoder_model_merged_q4.onnx`, ...).
   * @default ["fp32"]
   */
  dtypes?: readonly WeightFormat[];
  /**
   * Block size of the 4-bit and 8-bit `MatMulNBits` weights (a power of two, at least 16): each block of this many
   * weights of a row has its own scale and zero point. 128 (ONNX Runtime's quantizer's default) keeps a 7B q4
   * decoder at 4.3 bits per weight on disk and about 4.5 in memory (with the int8 kernels' block sums), against
   * 5.1 and 6 with 32: less memory and fewer bytes read per token, for a larger error per weight (see the README).
   * @default 128
   */
  blockSize?: number;
  /**
   * Which parts to write.
   * @default all four: embed_tokens, image_encoder, video_encoder, decoder_model_merged
   */
  parts?: readonly ModelPart[];
  /**
   * A part whose weights take more bytes than this keeps them in an external data file
   * (`<file>.onnx_data`) beside it; smaller parts are one self-contained `.onnx`. Protobuf caps a file at 2 GiB.
   * @default 2 GiB - 64 MiB
   */
  externalDataThreshold?: number;
  /**
   * The most bytes in one external data file: weights past it go on in `<file>.onnx_data_1`, `<file>.onnx_data_2`,
   * ... (each file holds whole tensors; a single tensor larger than this gets a file of its own). Browsers cannot
   * hold a buffer of 2 GiB, so the default keeps every file below; loaders read both layouts.
   * @default 2 GiB - 64 MiB
   */
  externalDataChunkBytes?: number;
  /**
   * Replace an existing non-empty output folder (only once the new one is complete). Only an earlier conversion
   * output is replaced: a folder with the `video_llava_conversion.json` manifest every conversion writes, holding
   * nothing the manifest does not list; any other folder is refused, naming it. An output that is, holds or lies
   * inside the checkpoint folder is refused with or without this option.
   * @default false
   */
  overwrite?: boolean;
  /** Progress in source bytes converted (`stage: "convert"`, `file`: the ONNX file being written). */
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  /**
   * Add `hidden_states.{i}` outputs to the decoder (debugging and parity tests).
   * @default false
   */
  hiddenStateOutputs?: boolean;
  /**
   * Build the decoder with ONNX Runtime's fused contrib ops (`SimplifiedLayerNormalization`, `RotaryEmbedding`,
   * `MultiHeadAttention` when there is no grouped-query attention) in the float32-compute formats (fp32, q8,
   * q4). The files then need ONNX Runtime.
   * @default false
   */
  contribOps?: boolean;
  /**
   * Give the decoder the `num_logits_to_keep` input (int64 scalar; 0 = every position's logits, N = the last N),
   * as Hugging Face's exporters do, so that a prefill computes only the logits it needs. Callers must then feed
   * it; `false` writes the older decoder that always computes every position's logits.
   * @default true
   */
  numLogitsToKeepInput?: boolean;
  /**
   * `MatMulNBits`' `accuracy_level` in the q4 and q8 formats: 4 lets ONNX Runtime quantize each input row to int8 and
   * use the CPU's int8 dot products (several times faster prefill and decoding; the converter README lists what it
   * costs in accuracy), 0 computes in float32.
   * @default 4
   */
  accuracyLevel?: 0 | 1 | 2 | 3 | 4;
  /**
   * Also write the decoder with the key/value buffer layout, `onnx/decoder_kv_buffer{suffix}.onnx`, sharing the
   * weights (and external data file) of `decoder_model_merged`: a decoding step then neither copies nor returns the
   * whole cache. `@video-llava/model` uses it on onnxruntime-node; `false` writes only the Hugging Face layout.
   * @default true
   */
  kvBufferDecoder?: boolean;
  /**
   * Also write the decoder with the int8 key/value cache, `onnx/decoder_kv_int8{suffix}.onnx` (fp32, q8 and q4),
   * sharing the weights of `decoder_model_merged`: ONNX Runtime's `GroupQueryAttention` over int8 buffers updated in
   * place, a quarter of the float32 cache's bytes per step, not exact (see the README). `@video-llava/model` uses it
   * with `decoderCache: 'int8'`.
   * @default true
   */
  int8CacheDecoder?: boolean;
  /**
   * Source bytes converted per step; bounds memory.
   * @default 16 MiB
   */
  chunkBytes?: number;
  /**
   * Copy config, generation, processor and tokenizer files so the output is a complete model folder.
   * @default true
   */
  copyFiles?: boolean;
}

const DEFAULT_THRESHOLD = 2 ** 31 - 2 ** 26;

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function fileBytes(path: string): Promise<number> {
  return (await stat(path)).size;
}

/**
 * Converts a Hugging Face Video-LLaVA checkpoint (a folder, or a hub id when `@video-llava/config` can fetch
 * it) into the ONNX model folder of the contract: `onnx/embed_tokens.onnx`, `onnx/image_encoder.onnx`,
 * `onnx/video_encoder.onnx`, `onnx/decoder_model_merged.onnx` (plus `_fp16`, `_q8`, `_q4` variants), with
 * the config, generation, processor and tokenizer files.
 *
 * Names, shapes and dtypes are validated against `config.json` before anything is written. Weights are
 * converted tensor by tensor in chunks (memory stays near `chunkBytes` plus the largest tensor's per-row
 * scales). Everything is written to `<out>.partial-*` and renamed to `<out>` at the end, so a failed
 * conversion never leaves a complete-looking folder. The folder gets a manifest, `video_llava_conversion.json`,
 * listing every file written; `overwrite` replaces only such a folder, so it never deletes what a conversion did
 * not write. The output may not be, hold or lie inside the checkpoint folder (compared by real path).
 *
 * @throws VideoLlavaError for a bad checkpoint (`INVALID_CHECKPOINT`, `SHAPE_MISMATCH`, `DTYPE_MISMATCH`,
 * `INVALID_FILE`, `INVALID_CONFIG`), bad options (`INVALID_ARGUMENT`), or `ABORTED`
 */
export async function convertCheckpoint(
  source: string,
  outputDirectory: string,
  options: ConvertOptions = {},
): Promise<ConversionReport> {
  const started = performance.now();
  const dtypes = [...new Set((options.dtypes ?? ['fp32']).map((dtype) => parseWeightFormat(dtype, 'dtypes')))];
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  checkBlockSize(blockSize);
  const parts = options.parts ?? MODEL_PARTS;
  for (const part of parts) {
    if (!MODEL_PARTS.includes(part)) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `parts: unknown part ${JSON.stringify(part)}; expected ${MODEL_PARTS.join(', ')}.`,
        { field: 'parts', expected: MODEL_PARTS, actual: part },
      );
    }
  }
  const threshold = options.externalDataThreshold ?? DEFAULT_THRESHOLD;
  const externalDataChunkBytes = options.externalDataChunkBytes ?? DEFAULT_EXTERNAL_DATA_CHUNK_BYTES;
  checkExternalDataChunkBytes(externalDataChunkBytes);
  const output = resolve(options.cwd ?? process.cwd(), outputDirectory);
  // A local checkpoint is checked against the output before anything else (before the hub is asked), so that
  // `convert ./ck . --overwrite` is refused as "contains the checkpoint", not for some later reason.
  const localSource = resolve(options.cwd ?? process.cwd(), source);
  if (await isDirectory(localSource)) await checkOutputApartFromSource(output, localSource);
  const overwrite = options.overwrite ?? false;
  await checkReplaceableOutput(output, overwrite);

  const checkpointDirectory = await resolveCheckpointDirectory(source, options);
  await checkOutputApartFromSource(output, checkpointDirectory);
  const checkpoint = await openCheckpoint(checkpointDirectory);
  const staging = join(dirname(output), `${basename(output)}.partial-${randomBytes(4).toString('hex')}`);
  try {
    const partOptions: BuildPartOptions = {
      blockSize,
      hiddenStateOutputs: options.hiddenStateOutputs,
      contribOps: options.contribOps,
      numLogitsToKeepInput: options.numLogitsToKeepInput,
      accuracyLevel: options.accuracyLevel,
      kvBufferDecoder: options.kvBufferDecoder,
      int8CacheDecoder: options.int8CacheDecoder,
    };
    const built: Array<{ dtype: WeightFormat; part: BuiltPart }> = [];
    for (const dtype of dtypes) {
      for (const part of parts)
        built.push({ dtype, part: buildModelPart(part, checkpoint.config, checkpoint.tensors, dtype, partOptions) });
    }
    const total = built.reduce(
      (sum, { part }) => sum + part.planner.jobs.reduce((bytes, job) => bytes + (job.source.end - job.source.start), 0),
      0,
    );
    await mkdir(join(staging, 'onnx'), { recursive: true });
    const files: ConvertedFile[] = [];
    let done = 0;
    for (const { dtype, part } of built) {
      const fileName = onnxFileName(part.part, dtype);
      options.onProgress?.({ stage: 'convert', file: `onnx/${fileName}`, done, total, unit: 'bytes' });
      const written = await writePart(checkpoint, part, dtype, join(staging, 'onnx'), fileName, threshold, {
        chunkBytes: options.chunkBytes,
        externalDataChunkBytes,
        signal: options.signal,
        onBytes: (bytes) => {
          done += bytes;
          options.onProgress?.({ stage: 'convert', file: `onnx/${fileName}`, done, total, unit: 'bytes' });
        },
      });
      files.push(...written);
    }
    if (options.copyFiles ?? true) {
      for (const name of MODEL_FOLDER_FILES) {
        const from = join(checkpointDirectory, name);
        try {
          await copyFile(from, join(staging, name));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw error;
        }
        files.push({ path: name, bytes: await fileBytes(join(staging, name)) });
      }
    }
    const manifest: ConversionManifest = {
      converter: '@video-llava/converter',
      version: 1,
      source,
      files: files.map((file) => file.path),
    };
    await writeFile(join(staging, CONVERSION_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    await checkpoint.close();
    // Checked again: the folder may have changed during the conversion.
    await checkReplaceableOutput(output, overwrite);
    await publish(staging, output);
    const totalBytes = files.reduce((sum, file) => sum + file.bytes, 0);
    return {
      source,
      checkpointDirectory,
      outputDirectory: output,
      dtypes,
      files,
      totalBytes,
      seconds: (performance.now() - started) / 1000,
      unusedTensors: checkpoint.unusedTensors,
    };
  } catch (error) {
    await checkpoint.close().catch(() => undefined);
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
}

async function publish(staging: string, output: string): Promise<void> {
  let previous: string | undefined;
  try {
    await stat(output);
    previous = `${output}.replaced-${randomBytes(4).toString('hex')}`;
    await rename(output, previous);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await rename(staging, output);
  if (previous) await rm(previous, { recursive: true, force: true });
}

interface PartWriteOptions {
  chunkBytes: number | undefined;
  externalDataChunkBytes: number;
  signal: AbortSignal | undefined;
  onBytes: (bytes: number) => void;
}

async function writePart(
  checkpoint: OpenedCheckpoint,
  built: BuiltPart,
  dtype: WeightFormat,
  directory: string,
  fileName: string,
  threshold: number,
  options: PartWriteOptions,
): Promise<ConvertedFile[]> {
  const modelPath = join(directory, fileName);
  const data = new ExternalDataFiles(directory, `${fileName}_data`, { chunkBytes: options.externalDataChunkBytes });
  let external = false;
  try {
    const written = await writeWeights(built.planner.jobs, safetensorsSliceReader(checkpoint.files), data, {
      ...(options.chunkBytes === undefined ? {} : { chunkBytes: options.chunkBytes }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      onBytes: options.onBytes,
    });
    const totalWeightBytes = [...written.references.values()].reduce((sum, reference) => sum + reference.length, 0);
    external = totalWeightBytes > threshold;
    for (const job of built.planner.jobs) {
      for (const output of job.outputs) {
        const reference = written.references.get(output.name)!;
        if (external) {
          built.graph.initializer(output.name, {
            dataType: output.dataType,
            dims: output.dims,
            externalData: reference,
          });
        } else {
          built.graph.initializer(output.name, {
            dataType: output.dataType,
            dims: output.dims,
            data: fileSlice(data, reference.location, reference.offset, reference.length),
          });
        }
      }
    }
    const graphs = [{ fileName, graph: built.graph, opsetImports: built.opsetImports }];
    for (const companion of built.companions) {
      const companionName = fileName.replace(built.part, companion.stem);
      for (const job of built.planner.jobs) {
        for (const output of job.outputs) {
          const reference = written.references.get(output.name)!;
          if (external)
            companion.graph.initializer(output.name, {
              dataType: output.dataType,
              dims: output.dims,
              externalData: reference,
            });
          else
            companion.graph.initializer(output.name, {
              dataType: output.dataType,
              dims: output.dims,
              data: fileSlice(data, reference.location, reference.offset, reference.length),
            });
        }
      }
      graphs.push({ fileName: companionName, graph: companion.graph, opsetImports: companion.opsetImports });
    }
    for (const item of graphs) {
      const model = createModel(item.graph.build(), {
        opsetImports: item.opsetImports,
        metadata: {
          'video_llava.part': built.part,
          'video_llava.dtype': dtype,
          'video_llava.converter': '@video-llava/converter',
        },
      });
      const out = await open(join(directory, item.fileName), 'w');
      try {
        let position = 0;
        for await (const chunk of encodeModelStream(model)) {
          await writeFully(out, chunk, position);
          position += chunk.byteLength;
        }
      } finally {
        await out.close();
      }
    }
    const files: ConvertedFile[] = [
      {
        path: `onnx/${fileName}`,
        bytes: await fileBytes(modelPath),
        part: built.part,
        dtype,
        weightError: { maxAbsError: written.error.maxAbsError, relativeRmsError: written.error.relativeRmsError },
      },
    ];
    for (const item of graphs.slice(1))
      files.push({
        path: `onnx/${item.fileName}`,
        bytes: await fileBytes(join(directory, item.fileName)),
        part: built.part,
        dtype,
      });
    if (external)
      for (const file of await data.files())
        files.push({ path: `onnx/${file.location}`, bytes: file.bytes, part: built.part, dtype });
    return files;
  } finally {
    if (external) await data.close();
    else await data.remove();
  }
}

function fileSlice(data: ExternalDataFiles, location: string, offset: number, length: number): DeferredBytes {
  return { byteLength: length, chunks: () => data.read(location, offset, length) };
}

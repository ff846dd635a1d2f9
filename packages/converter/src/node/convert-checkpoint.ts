import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { type ProgressCallback, VideoLlavaError } from '@video-llava/core';
import { type DeferredBytes, createModel, encodeModelStream } from '@video-llava/onnx';
import { type BuildPartOptions, type BuiltPart, buildModelPart } from '../build-part.js';
import type { ConversionReport, ConvertedFile } from '../conversion-report.js';
import { checkBlockSize } from '../quantize.js';
import { MODEL_PARTS, type ModelPart, type WeightFormat, onnxFileName, parseWeightFormat } from '../weight-format.js';
import { type OpenedCheckpoint, openCheckpoint } from './checkpoint-directory.js';
import { MODEL_FOLDER_FILES } from './model-folder-files.js';
import { CONVERSION_MANIFEST, type ConversionManifest, checkOutputApartFromSource, checkReplaceableOutput } from './output-folder.js';
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
   * Block size of the 4-bit and 8-bit `MatMulNBits` weights (a power of two, at least 16).
   * @default 32
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
export async function convertCheckpoint(source: string, outputDirectory: string, options: ConvertOptions = {}): Promise<ConversionReport> {
  const started = performance.now();
  const dtypes = [...new Set((options.dtypes ?? ['fp32']).map((dtype) => parseWeightFormat(dtype, 'dtypes')))];
  const blockSize = options.blockSize ?? 32;
  checkBlockSize(blockSize);
  const parts = options.parts ?? MODEL_PARTS;
  for (const part of parts) {
    if (!MODEL_PARTS.includes(part)) {
      throw new VideoLlavaError('INVALID_ARGUMENT', `parts: unknown part ${JSON.stringify(part)}; expected ${MODEL_PARTS.join(', ')}.`, { field: 'parts', expected: MODEL_PARTS, actual: part });
    }
  }
  const threshold = options.externalDataThreshold ?? DEFAULT_THRESHOLD;
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
    const partOptions: BuildPartOptions = { blockSize, hiddenStateOutputs: options.hiddenStateOutputs, contribOps: options.contribOps, numLogitsToKeepInput: options.numLogitsToKeepInput };
    const built: Array<{ dtype: WeightFormat; part: BuiltPart }> = [];
    for (const dtype of dtypes) {
      for (const part of parts) built.push({ dtype, part: buildModelPart(part, checkpoint.config, checkpoint.tensors, dtype, partOptions) });
    }
    const total = built.reduce((sum, { part }) => sum + part.planner.jobs.reduce((bytes, job) => bytes + (job.source.end - job.source.start), 0), 0);
    await mkdir(join(staging, 'onnx'), { recursive: true });
    const files: ConvertedFile[] = [];
    let done = 0;
    for (const { dtype, part } of built) {
      const fileName = onnxFileName(part.part, dtype);
      options.onProgress?.({ stage: 'convert', file: `onnx/${fileName}`, done, total, unit: 'bytes' });
      const written = await writePart(checkpoint, part, dtype, join(staging, 'onnx'), fileName, threshold, {
        chunkBytes: options.chunkBytes,
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
    const manifest: ConversionManifest = { converter: '@video-llava/converter', version: 1, source, files: files.map((file) => file.path) };
    await writeFile(join(staging, CONVERSION_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    await checkpoint.close();
    // Checked again: the folder may have changed during the conversion.
    await checkReplaceableOutput(output, overwrite);
    await publish(staging, output);
    const totalBytes = files.reduce((sum, file) => sum + file.bytes, 0);
    return { source, checkpointDirectory, outputDirectory: output, dtypes, files, totalBytes, seconds: (performance.now() - started) / 1000, unusedTensors: checkpoint.unusedTensors };
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
  signal: AbortSignal | undefined;
  onBytes: (bytes: number) => void;
}

async function writePart(checkpoint: OpenedCheckpoint, built: BuiltPart, dtype: WeightFormat, directory: string, fileName: string, threshold: number, options: PartWriteOptions): Promise<ConvertedFile[]> {
  const dataName = `${fileName}_data`;
  const dataPath = join(directory, dataName);
  const modelPath = join(directory, fileName);
  const data = await open(dataPath, 'w+');
  let external: boolean;
  try {
    const written = await writeWeights(built.planner.jobs, safetensorsSliceReader(checkpoint.files), data, dataName, {
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
          built.graph.initializer(output.name, { dataType: output.dataType, dims: output.dims, externalData: reference });
        } else {
          built.graph.initializer(output.name, { dataType: output.dataType, dims: output.dims, data: fileSlice(data, reference.offset, reference.length) });
        }
      }
    }
    const model = createModel(built.graph.build(), {
      opsetImports: built.opsetImports,
      metadata: {
        'video_llava.part': built.part,
        'video_llava.dtype': dtype,
        'video_llava.converter': '@video-llava/converter',
      },
    });
    const out = await open(modelPath, 'w');
    try {
      let position = 0;
      for await (const chunk of encodeModelStream(model)) {
        await writeFully(out, chunk, position);
        position += chunk.byteLength;
      }
    } finally {
      await out.close();
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
    if (external) files.push({ path: `onnx/${dataName}`, bytes: await fileBytes(dataPath), part: built.part, dtype });
    return files;
  } finally {
    await data.close();
    if (!external!) await rm(dataPath, { force: true });
  }
}

function fileSlice(handle: Awaited<ReturnType<typeof open>>, offset: number, length: number): DeferredBytes {
  return {
    byteLength: length,
    async *chunks() {
      const step = 16 * 1024 * 1024;
      for (let done = 0; done < length; done += step) {
        const size = Math.min(step, length - done);
        const buffer = new Uint8Array(size);
        let read = 0;
        while (read < size) {
          const { bytesRead } = await handle.read(buffer, read, size - read, offset + done + read);
          if (bytesRead === 0) throw new VideoLlavaError('INVALID_FILE', 'Internal error: the weight data file ended early.', { expected: length, actual: done + read });
          read += bytesRead;
        }
        yield buffer;
      }
    },
  };
}

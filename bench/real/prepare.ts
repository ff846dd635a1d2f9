import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PREPACKED_FOLDER } from '@video-llava/runtime-node';
import {
  type ConvertOptions,
  convertCheckpoint,
  videoLlava7bDimensions,
  writeSyntheticCheckpoint,
} from '@video-llava/converter/node';
import { type GgufTensorType, writeLlamaGguf } from './gguf.js';
import { FIXTURE_MODEL_DIR, cacheRoot, converterHash } from './paths.js';

export type Log = (line: string) => void;

/** Layers of the synthetic checkpoint: the text model's (32 in Video-LLaVA-7B) and the vision towers' (24). */
export interface Layers {
  text: number;
  vision: number;
}

/** Bump when the synthetic checkpoint's recipe changes here (the converter's own hash does not cover it). */
const CHECKPOINT_RECIPE = 1;
/** Bump when the GGUF writer changes. */
export const GGUF_WRITER_VERSION = 1;

function markerOk(folder: string, key: unknown): boolean {
  const marker = join(folder, '.bench-complete.json');
  return existsSync(marker) && readFileSync(marker, 'utf8') === JSON.stringify(key);
}

function markDone(folder: string, key: unknown): void {
  writeFileSync(join(folder, '.bench-complete.json'), JSON.stringify(key));
}

/** Bytes of the files under `path` (a file or a folder). */
export function diskBytes(path: string): number {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.size;
  // onnxruntime's prepacked weights written beside the ONNX files (runtime-node's prepackedCache): not the model
  return readdirSync(path)
    .filter((name) => name !== PREPACKED_FOLDER)
    .reduce((sum, name) => sum + diskBytes(join(path, name)), 0);
}

/**
 * The synthetic Video-LLaVA-7B checkpoint (random float16 weights at the real dimensions, tokenizer and processor
 * files from the fixture), written once into the cache.
 */
export async function syntheticCheckpoint(layers: Layers, log: Log): Promise<{ directory: string; seconds?: number }> {
  const directory = join(cacheRoot(), `checkpoint-7b-t${layers.text}-v${layers.vision}`);
  const key = { recipe: CHECKPOINT_RECIPE, layers };
  if (markerOk(directory, key)) return { directory };
  rmSync(directory, { recursive: true, force: true });
  const partial = `${directory}.partial`;
  rmSync(partial, { recursive: true, force: true });
  log(
    `writing the synthetic checkpoint (${layers.text} text layers, ${layers.vision} vision layers) into ${directory} (once)`,
  );
  const started = performance.now();
  await writeSyntheticCheckpoint(partial, {
    config: videoLlava7bDimensions(layers),
    dtype: 'float16',
    shards: 2,
    copyFilesFrom: FIXTURE_MODEL_DIR,
  });
  markDone(partial, key);
  renameSync(partial, directory);
  const seconds = (performance.now() - started) / 1000;
  log(`checkpoint written in ${seconds.toFixed(0)} s`);
  return { directory, seconds };
}

/** A converted model folder in the cache, for one dtype. */
export interface Conversion {
  dtype: string;
  directory: string;
  /** The conversion's key (converter files + options). */
  key: string;
  /** Seconds spent converting in this run (undefined: taken from the cache). */
  seconds?: number;
  /** Bytes of the decoder's files (`decoder_model_merged[_dtype].onnx` and its external data). */
  decoderBytes: number;
  /** Bytes of the whole folder. */
  totalBytes: number;
}

/** The decoder's files of a converted folder for `dtype` (the .onnx and its external data). */
export function decoderFiles(directory: string, dtype: string): string[] {
  const base = `decoder_model_merged${dtype === 'fp32' ? '' : `_${dtype}`}.onnx`;
  return readdirSync(join(directory, 'onnx'))
    .filter((name) => name === base || name.startsWith(`${base}_data`) || name.startsWith(`${base}.data`))
    .map((name) => join(directory, 'onnx', name));
}

/**
 * Converts the checkpoint to `dtype` (every part in that dtype: a folder with one variant only) unless the cache
 * holds a conversion made by the same converter files with the same options; stale conversions of that dtype are
 * removed (they take gigabytes).
 */
export async function convertOnce(
  checkpoint: string,
  layers: Layers,
  dtype: string,
  extraOptions: Partial<ConvertOptions>,
  log: Log,
): Promise<Conversion> {
  const options: ConvertOptions = { ...extraOptions, dtypes: [dtype as never] };
  const key = converterHash({ checkpoint: `t${layers.text}-v${layers.vision}`, options }).slice(0, 16);
  const prefix = `onnx-7b-t${layers.text}-v${layers.vision}-${dtype}-`;
  const directory = join(cacheRoot(), `${prefix}${key}`);
  let seconds: number | undefined;
  if (!markerOk(directory, key)) {
    for (const name of readdirSync(cacheRoot()))
      if (name.startsWith(prefix)) rmSync(join(cacheRoot(), name), { recursive: true, force: true });
    log(`converting to ${dtype} (converter key ${key}) into ${directory}`);
    const started = performance.now();
    let last = 0;
    await convertCheckpoint(checkpoint, directory, {
      ...options,
      onProgress: (event) => {
        const now = performance.now();
        if (now - last < 15000) return;
        last = now;
        log(
          `  ${dtype}: ${event.file ?? ''} ${event.total ? ((100 * event.done) / event.total).toFixed(0) : event.done}%`,
        );
      },
    });
    markDone(directory, key);
    seconds = (performance.now() - started) / 1000;
    log(`converted to ${dtype} in ${seconds.toFixed(0)} s`);
  }
  const decoderBytes = decoderFiles(directory, dtype).reduce((sum, file) => sum + statSync(file).size, 0);
  return {
    dtype,
    directory,
    key,
    ...(seconds === undefined ? {} : { seconds }),
    decoderBytes,
    totalBytes: diskBytes(directory),
  };
}

/** The checkpoint's text model as a GGUF file of `type`, written once. */
export async function ggufOnce(
  checkpoint: string,
  layers: Layers,
  type: GgufTensorType,
  log: Log,
): Promise<{ file: string; bytes: number; seconds?: number }> {
  const file = join(cacheRoot(), `llama-7b-t${layers.text}-${type}.gguf`);
  const key = { writer: GGUF_WRITER_VERSION, type, layers };
  const marker = `${file}.complete.json`;
  if (existsSync(file) && existsSync(marker) && readFileSync(marker, 'utf8') === JSON.stringify(key))
    return { file, bytes: statSync(file).size };
  log(`writing ${file} (GGUF ${type}, once)`);
  const started = performance.now();
  const partial = `${file}.partial`;
  await writeLlamaGguf(checkpoint, partial, { type, log });
  renameSync(partial, file);
  writeFileSync(marker, JSON.stringify(key));
  const seconds = (performance.now() - started) / 1000;
  log(`GGUF ${type} written in ${seconds.toFixed(0)} s`);
  return { file, bytes: statSync(file).size, seconds };
}

import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { VideoLlavaError } from '@video-llava/core';
import { MODEL_DTYPES, MODEL_PARTS, type ModelDtype, type ModelDtypeChoice, type ModelPart } from '@video-llava/model';
import type { Backend } from '@video-llava/runtime';
import { createNodeBackend } from '@video-llava/runtime-node';
import { type CliIo, UsageError } from './command.js';
import { type OnnxVariant, listOnnxVariants } from './onnx-variants.js';

/**
 * The flags of every command that loads a model (`generate`, `chat`, and the server and worker commands):
 * `--dtype` (which ONNX file variant of each part), `--threads` (threads per ONNX operator) and `--prepack-cache`
 * (where onnxruntime's prepacked weights are kept between runs). Spread into a
 * command's options; {@link parseModelLoadFlags} checks them before anything loads, {@link modelLoadOptions} turns
 * them into `VideoLlava.load` options.
 */
export const modelLoadFlags = {
  dtype: {
    type: 'string',
    value: 'DTYPE | PART=DTYPE,...',
    description:
      'the ONNX variant to load: fp32, fp16, q8 or q4 for every part, or per part (decoder, vision, embed, or a file name such as decoder_model_merged), e.g. decoder=q4,vision=fp16 (default: the one variant the folder holds of each part)',
  },
  threads: {
    type: 'string',
    value: 'N',
    description: `threads per ONNX operator (default: os.availableParallelism(), ${availableParallelism()} here)`,
  },
  'kv-cache': {
    type: 'string',
    value: 'float32 | int8',
    description:
      "the decoder's key/value cache: float32 (exact; default) or int8 (decoder_kv_int8*.onnx: a quarter of the bytes each token reads, so long videos decode faster; not exact: keys and values rounded to int8, see @video-llava/model)",
  },
  'prepack-cache': {
    type: 'string',
    value: 'on | DIR | off',
    description:
      "keep onnxruntime's prepacked CPU weights on disk: the first load of a model writes them (about twice its bytes, once), later loads map them (7B q4: about 30 s -> 6 s, but decode steps ran slower from the mapped weights here); on: a .prepacked folder beside the ONNX files (default: VIDEO_LLAVA_PREPACK_CACHE, else off)",
  },
} as const;

/** The values {@link modelLoadFlags} parse to. */
export interface ModelLoadFlagValues {
  dtype?: string | undefined;
  threads?: string | undefined;
  'kv-cache'?: string | undefined;
  'prepack-cache'?: string | undefined;
}

/** `--dtype` as given: a dtype for the parts not named (if any), and one per named part. */
export interface DtypeRequest {
  /** The dtype of every part not in {@link parts}; undefined: what the folder holds. */
  rest?: ModelDtype | undefined;
  /** Dtypes chosen part by part. */
  parts: Partial<Record<ModelPart, ModelDtype>>;
}

/** {@link modelLoadFlags}, checked: what {@link modelLoadOptions} needs. */
export interface ModelLoadArguments {
  /** The dtypes asked for; undefined when `--dtype` was not given. */
  dtype: DtypeRequest | undefined;
  /** Threads per operator. */
  threads: number;
  /** `--prepack-cache` as given (`on`, a folder or `off`); undefined: the environment's, else off. */
  prepackCache: string | undefined;
  /** `--kv-cache`: the int8 cache decoder, or the library's default (float32). */
  kvCache: 'float32' | 'int8';
}

/** The short names `--dtype` accepts beside the part names. */
export const PART_ALIASES: Readonly<Record<string, readonly ModelPart[]>> = {
  decoder: ['decoder_model_merged'],
  vision: ['image_encoder', 'video_encoder'],
  embed: ['embed_tokens'],
};

function dtypeOf(value: string, where: string, usage: string): ModelDtype {
  if ((MODEL_DTYPES as readonly string[]).includes(value)) return value as ModelDtype;
  throw new UsageError(
    `--dtype: ${where} must be one of ${MODEL_DTYPES.join(', ')}, found ${JSON.stringify(value)}`,
    usage,
  );
}

/**
 * Parses `--dtype`: `q4` (every part), `decoder=q4,vision=fp16` (per part), or both (`fp16,decoder=q4`: the decoder
 * q4, every other part fp16). Parts: the aliases `decoder`, `vision` (both encoders), `embed`, and the file names
 * `decoder_model_merged`, `image_encoder`, `video_encoder`, `embed_tokens`.
 * @throws UsageError naming the unknown dtype or part and what is accepted
 */
export function parseDtypeArgument(value: string, usage: string): DtypeRequest {
  const request: DtypeRequest = { parts: {} };
  const entries = value.split(',').map((entry) => entry.trim());
  if (entries.some((entry) => entry === ''))
    throw new UsageError(
      `--dtype: an empty entry in ${JSON.stringify(value)}; give DTYPE or PART=DTYPE, separated by commas`,
      usage,
    );
  for (const entry of entries) {
    const equals = entry.indexOf('=');
    if (equals < 0) {
      if (request.rest !== undefined)
        throw new UsageError(
          `--dtype: two dtypes for every part (${request.rest}, ${entry}); name the part of one of them (PART=DTYPE)`,
          usage,
        );
      request.rest = dtypeOf(entry, 'the dtype', usage);
      continue;
    }
    const name = entry.slice(0, equals).trim();
    const dtype = dtypeOf(entry.slice(equals + 1).trim(), `the dtype of ${name}`, usage);
    const parts =
      PART_ALIASES[name] ?? ((MODEL_PARTS as readonly string[]).includes(name) ? [name as ModelPart] : undefined);
    if (parts === undefined) {
      throw new UsageError(
        `--dtype: ${JSON.stringify(name)} is not a model part; the parts are ${[...Object.keys(PART_ALIASES), ...MODEL_PARTS].join(', ')}`,
        usage,
      );
    }
    for (const part of parts) {
      if (request.parts[part] !== undefined && request.parts[part] !== dtype)
        throw new UsageError(`--dtype: ${part} is given twice (${request.parts[part]}, ${dtype})`, usage);
      request.parts[part] = dtype;
    }
  }
  return request;
}

/**
 * Parses `--threads`: a positive integer.
 * @returns os.availableParallelism() when not given
 * @throws UsageError naming the flag and the accepted range
 */
export function parseThreadsArgument(value: string | undefined, usage: string): number {
  if (value === undefined) return availableParallelism();
  const threads = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(threads) || threads < 1)
    throw new UsageError(`--threads must be an integer >= 1, found ${JSON.stringify(value)}`, usage);
  return threads;
}

/**
 * Checks {@link modelLoadFlags} without touching the model (so a bad flag fails before anything loads).
 * @throws UsageError for a bad `--dtype` or `--threads`
 */
export function parseModelLoadFlags(values: ModelLoadFlagValues, usage: string): ModelLoadArguments {
  const prepackCache = values['prepack-cache'];
  if (prepackCache !== undefined && prepackCache.trim() === '')
    throw new UsageError('--prepack-cache takes on, a folder or off, found ""', usage);
  const kvCache = values['kv-cache'] ?? 'float32';
  if (kvCache !== 'float32' && kvCache !== 'int8')
    throw new UsageError(`--kv-cache takes float32 or int8, found ${JSON.stringify(kvCache)}`, usage);
  return {
    dtype: values.dtype === undefined ? undefined : parseDtypeArgument(values.dtype, usage),
    threads: parseThreadsArgument(values.threads, usage),
    prepackCache,
    kvCache,
  };
}

/**
 * Where `--prepack-cache` asks onnxruntime-node to keep its prepacked weights (runtime-node's `prepackedCache`): beside
 * each ONNX file (`on`: true), in the folder given (relative to `cwd`), or nowhere (`off`, undefined); without the
 * flag, as `VIDEO_LLAVA_PREPACK_CACHE` says, else off. Off by default: loads from the cache are 5x faster, but
 * decoding from the memory-mapped weights ran slower here (see `@video-llava/runtime-node`'s README).
 */
export function prepackCacheOption(
  parsed: ModelLoadArguments,
  io: Pick<CliIo, 'cwd' | 'env'>,
): string | true | undefined {
  const asked = parsed.prepackCache ?? (io.env.VIDEO_LLAVA_PREPACK_CACHE?.trim() || 'off');
  return asked === 'off' ? undefined : asked === 'on' ? true : resolve(io.cwd, asked);
}

function describeVariants(variants: readonly OnnxVariant[]): string {
  return variants.map((variant) => `${variant.dtype} (${variant.file})`).join(', ');
}

/**
 * The dtype of each part for the model folder `folder`: the one asked for, else the only variant the folder holds.
 * A part of which the folder holds nothing is left to the library (fp32; its load names the missing file).
 *
 * @throws VideoLlavaError `FILE_NOT_FOUND` when the folder lacks the variant asked for (listing those it holds),
 *   `INVALID_ARGUMENT` when `--dtype` is not given and a part has several variants (listing them)
 */
export function chooseModelDtypes(folder: string, request: DtypeRequest | undefined): Record<ModelPart, ModelDtype> {
  const variants = listOnnxVariants(folder);
  const onnxFolder = join(folder, 'onnx');
  const chosen = {} as Record<ModelPart, ModelDtype>;
  const converted = MODEL_PARTS.some((part) => variants[part].length > 0);
  for (const part of MODEL_PARTS) {
    const held = variants[part];
    const asked = request?.parts[part] ?? request?.rest;
    if (asked !== undefined) {
      if (converted && held.length > 0 && !held.some((variant) => variant.dtype === asked)) {
        const file = `${part}${asked === 'fp32' ? '' : `_${asked}`}.onnx`;
        throw new VideoLlavaError(
          'FILE_NOT_FOUND',
          `--dtype asks for ${asked} of ${part}, but ${onnxFolder} has no ${file}; it holds ${describeVariants(held)}. Pass --dtype ${held.length === 1 ? held[0]!.dtype : '<one of those>'}, or convert the checkpoint with --dtype ${asked}.`,
          {
            file: join(onnxFolder, file),
            field: '--dtype',
            expected: held.map((variant) => variant.dtype),
            actual: asked,
          },
        );
      }
      chosen[part] = asked;
    } else if (held.length === 1) chosen[part] = held[0]!.dtype;
    else if (held.length > 1) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `${onnxFolder} holds several variants of ${part}: ${describeVariants(held)}. Choose with --dtype (e.g. --dtype ${held[held.length - 1]!.dtype}, or per part: --dtype decoder=${held[held.length - 1]!.dtype},vision=${held[0]!.dtype}).`,
        { file: onnxFolder, field: '--dtype', expected: held.map((variant) => variant.dtype), actual: undefined },
      );
    } else chosen[part] = 'fp32';
  }
  return chosen;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The `VideoLlava.load` options {@link modelLoadFlags} ask for: `dtype` (for a local folder, what it holds where
 * `--dtype` leaves a part open; for a hub id or URL, which cannot be listed, what `--dtype` says, else the library's
 * default), `sessionOptions.threads`, `decoderCache: 'int8'` for `--kv-cache int8`, and the backend with
 * `--prepack-cache` (see {@link prepackCacheOption}).
 *
 * @param model the model argument as typed (a folder, a hub id or a URL)
 * @param io `cwd` (the folder a relative path is resolved against), `env` and `stderr` (the cache's warnings)
 * @throws VideoLlavaError from {@link chooseModelDtypes}
 */
export function modelLoadOptions(
  model: string,
  parsed: ModelLoadArguments,
  io: Pick<CliIo, 'cwd' | 'env' | 'stderr'>,
): {
  dtype?: ModelDtypeChoice;
  sessionOptions: { threads: number };
  backend: Backend;
  decoderCache?: 'int8';
} {
  const sessionOptions = { threads: parsed.threads };
  const cache = parsed.kvCache === 'int8' ? { decoderCache: 'int8' as const } : {};
  const prepackedCache = prepackCacheOption(parsed, io);
  // the cache's warnings (no room, a damaged entry) go to stderr
  const backend = createNodeBackend({
    ...(prepackedCache === undefined ? {} : { prepackedCache }),
    onWarning: (warning) => io.stderr.write(`warning: ${warning.message}\n`),
  });
  const folder = /^https?:\/\//i.test(model) ? undefined : isAbsolute(model) ? model : resolve(io.cwd, model);
  if (folder !== undefined && isDirectory(folder))
    return { dtype: chooseModelDtypes(folder, parsed.dtype), sessionOptions, backend, ...cache };
  if (parsed.dtype === undefined) return { sessionOptions, backend, ...cache };
  const { rest, parts } = parsed.dtype;
  return {
    dtype: rest === undefined ? parts : { ...Object.fromEntries(MODEL_PARTS.map((part) => [part, rest])), ...parts },
    sessionOptions,
    backend,
    ...cache,
  };
}

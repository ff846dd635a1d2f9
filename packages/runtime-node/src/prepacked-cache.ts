import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, realpath, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { ProgressCallback, WarningCallback } from '@video-llava/core';
import { externalDataFilesOf, modelFolder } from './read-model-source.js';

/**
 * Where onnxruntime's prepacked weights are kept between loads (see {@link NodeBackendOptions.prepackedCache}).
 *
 * onnxruntime rearranges every constant weight of `MatMulNBits` (and `MatMul`, `Conv`, ...) into the layout of its
 * CPU kernels when a session loads: for Video-LLaVA-7B q4 that is most of a 30 s load. With this cache the first
 * load of a model file also writes the optimized graph with its prepacked weights (about twice the file's bytes) into
 * a folder of its own, and later loads memory-map them: 3-6 s. Entries are keyed by the model file and its external
 * data (path, size, modification time), the onnxruntime version, the CPU (model and instruction set flags) and the
 * session options that change the graph, so a stale entry is never read. Each model file keeps one entry: writing a
 * new one (the file changed, or onnxruntime, or the CPU) removes the older ones of the same file.
 */
export interface PrepackedCacheOptions {
  /**
   * The cache folder; each model file gets a sub-folder named after it and its key.
   * @default a `.prepacked` folder beside each model file (removed with the model)
   */
  directory?: string;
  /**
   * Write an entry when a model has none (the load then takes about twice as long, once), or only read entries.
   * @default true
   */
  write?: boolean;
}

/** Bumped when the entry layout changes, so old entries are not read. */
const ENTRY_FORMAT = 1;
/** The folder of entries beside each model file, when {@link PrepackedCacheOptions.directory} is left out. */
export const PREPACKED_FOLDER = '.prepacked';
/** An entry holds the graph, the original weights and the prepacked ones: room for this many times the source. */
const SPACE_FACTOR = 2.5;
const ENTRY_MODEL = 'model.onnx';
const ENTRY_DATA = 'model.onnx.data';
const ENTRY_MANIFEST = 'entry.json';
/**
 * Weights under this size stay inside the entry's graph, and onnxruntime prepacks them at every load as without the
 * cache. onnxruntime 1.30 aligns an external weight's offset only from 1 MiB up, and reads a prepacked
 * `MatMulNBits` blob written at an unaligned offset wrongly (NaN and garbage from the second such weight on, seen
 * with weights of 64 to 1024 inputs); from 1 MiB up every blob is aligned and reads back bit for bit
 * (test/prepacked-cache.test.ts checks chains of weights on both sides of this line).
 */
export const MINIMUM_EXTERNAL_BYTES = 2 ** 20;

let cpuSignature: string | undefined;

/** The CPU as the prepacked layouts depend on it: its model and, on Linux, its instruction set flags. */
function describeCpu(): string {
  if (cpuSignature !== undefined) return cpuSignature;
  let signature = `${process.arch} ${cpus()[0]?.model ?? 'unknown cpu'}`;
  if (process.platform === 'linux') {
    try {
      const info = readFileSync('/proc/cpuinfo', 'utf8');
      const flags = /^(?:flags|Features)\s*:(.*)$/m.exec(info)?.[1]?.trim().split(/\s+/).sort().join(' ');
      if (flags) signature += ` ${flags}`;
    } catch {
      // the model name alone
    }
  }
  cpuSignature = signature;
  return signature;
}

/** What identifies one entry: everything that changes onnxruntime's optimized graph or prepacked bytes. */
export interface PrepackedCacheKeyInput {
  /** The model file (absolute). */
  modelPath: string;
  /** onnxruntime's version. */
  ortVersion: string;
  /** Session options that change the graph (optimization level, free dimension overrides). */
  graphOptions: Readonly<Record<string, unknown>>;
}

interface SourceFile {
  path: string;
  size: number;
  mtimeMs: number;
}

/** The model file and the external data files it names, each with its size and modification time. */
async function sourceFiles(modelPath: string): Promise<SourceFile[]> {
  const real = await realpath(modelPath);
  const paths = [real, ...((await externalDataFilesOf(real)) ?? []).map((name) => resolve(modelFolder(real), name))];
  return Promise.all(
    paths.map(async (path) => {
      const { size, mtimeMs } = await stat(path);
      return { path, size, mtimeMs };
    }),
  );
}

/** The entry folder of a model, or undefined when its files cannot be read (onnxruntime then reports it). */
async function entryFor(
  directory: string,
  input: PrepackedCacheKeyInput,
): Promise<{ folder: string; prefix: string; files: SourceFile[]; key: string } | undefined> {
  let files: SourceFile[];
  try {
    files = await sourceFiles(input.modelPath);
  } catch {
    return undefined;
  }
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        format: ENTRY_FORMAT,
        ort: input.ortVersion,
        platform: process.platform,
        cpu: describeCpu(),
        files,
        graph: input.graphOptions,
      }),
    )
    .digest('hex')
    .slice(0, 16);
  const prefix = `${basename(input.modelPath).replace(/\.onnx$/i, '')}-`;
  return { folder: join(resolve(directory), `${prefix}${key}`), prefix, files, key };
}

/** Removes the other entries written for the same model file (`path` as the entries' manifests record it). */
async function removeOlderEntries(directory: string, prefix: string, keep: string, path: string): Promise<void> {
  const names = await readdir(directory).catch(() => [] as string[]);
  for (const name of names) {
    const folder = join(directory, name);
    if (!name.startsWith(prefix) || folder === keep || name.includes('.partial-')) continue;
    const manifest = await readFile(join(folder, ENTRY_MANIFEST), 'utf8').then(
      (text) => JSON.parse(text) as { sources?: { path?: unknown }[] },
      () => undefined,
    );
    if (manifest?.sources?.[0]?.path === path) await rm(folder, { recursive: true, force: true });
  }
}

/** The onnxruntime session options that write an entry. */
export interface OrtSaveOptions {
  optimizedModelFilePath: string;
  extra: { session: Record<string, string> };
}

/** Options that make onnxruntime write the optimized graph to `folder`, with its prepacked weights beside it. */
function saveInto(folder: string): OrtSaveOptions {
  return {
    optimizedModelFilePath: join(folder, ENTRY_MODEL),
    extra: {
      session: {
        save_external_prepacked_constant_initializers: '1',
        optimized_model_external_initializers_file_name: ENTRY_DATA,
        optimized_model_external_initializers_min_size_in_bytes: String(MINIMUM_EXTERNAL_BYTES),
      },
    },
  };
}

/** What {@link createThroughPrepackedCache} needs from the backend. */
export interface PrepackedCacheLoad<Session> {
  options: PrepackedCacheOptions;
  input: PrepackedCacheKeyInput;
  /**
   * Creates a session from `path`; `save` (onnxruntime session options, spread over the backend's) asks onnxruntime
   * to write the optimized model with its prepacked weights.
   */
  create: (path: string, save?: OrtSaveOptions) => Promise<Session>;
  onProgress?: ProgressCallback | undefined;
  onWarning?: WarningCallback | undefined;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Creates a session through the prepacked cache: from the model's entry when there is one, else from the model
 * itself, writing the entry on the way when the cache may be written and the disk has room. Whatever goes wrong
 * with the cache (no room, an unreadable entry, a failed write) falls back to a plain load with a warning: the
 * cache never makes a load fail that would have worked without it.
 */
export async function createThroughPrepackedCache<Session>(load: PrepackedCacheLoad<Session>): Promise<Session> {
  const { options, input, create, onProgress, onWarning } = load;
  const directory = options.directory ?? join(modelFolder(input.modelPath), PREPACKED_FOLDER);
  const entry = await entryFor(directory, input);
  if (entry === undefined) return await create(input.modelPath);

  if (await exists(join(entry.folder, ENTRY_MANIFEST))) {
    try {
      return await create(join(entry.folder, ENTRY_MODEL));
    } catch (error) {
      onWarning?.({
        code: 'PREPACK_CACHE_INVALID',
        message: `The prepacked cache entry ${entry.folder} for ${input.modelPath} could not be loaded (${message(error)}); it is removed and the model loads from its own file.`,
        file: entry.folder,
        expected: 'a loadable optimized model',
        actual: message(error),
      });
      await rm(entry.folder, { recursive: true, force: true });
    }
  }
  if (options.write === false) return await create(input.modelPath);

  const sourceBytes = entry.files.reduce((sum, file) => sum + file.size, 0);
  const needed = Math.ceil(sourceBytes * SPACE_FACTOR) + 64 * 2 ** 20;
  let available: number;
  try {
    await mkdir(directory, { recursive: true });
    const space = await statfs(directory);
    available = space.bavail * space.bsize;
  } catch (error) {
    onWarning?.({
      code: 'PREPACK_CACHE_SKIPPED',
      message: `The prepacked cache folder ${directory} cannot be used (${message(error)}); ${input.modelPath} loads without it.`,
      file: directory,
      expected: 'a writable folder',
      actual: message(error),
    });
    return await create(input.modelPath);
  }
  if (available < needed) {
    onWarning?.({
      code: 'PREPACK_CACHE_SKIPPED',
      message: `The prepacked cache for ${input.modelPath} needs about ${(needed / 2 ** 30).toFixed(2)} GiB in ${directory}, which has ${(available / 2 ** 30).toFixed(2)} GiB free; the model loads without it.`,
      file: directory,
      expected: `${needed} free bytes`,
      actual: `${available} free bytes`,
    });
    return await create(input.modelPath);
  }

  const partial = `${entry.folder}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  const progress = { stage: 'prepack', file: input.modelPath, total: 1, unit: 'items' } as const;
  onProgress?.({ ...progress, done: 0 });
  let session: Session;
  try {
    await mkdir(partial, { recursive: true });
    session = await create(input.modelPath, saveInto(partial));
  } catch (saveError) {
    await rm(partial, { recursive: true, force: true });
    // A load error of the model itself comes again from the plain load, with the model's own message.
    const plain = await create(input.modelPath);
    onWarning?.({
      code: 'PREPACK_CACHE_SKIPPED',
      message: `Writing the prepacked cache entry for ${input.modelPath} failed (${message(saveError)}); the model loaded without it.`,
      file: entry.folder,
      expected: 'a written cache entry',
      actual: message(saveError),
    });
    return plain;
  }
  try {
    await writeFile(
      join(partial, ENTRY_MANIFEST),
      `${JSON.stringify({ format: ENTRY_FORMAT, key: entry.key, ortVersion: input.ortVersion, cpu: describeCpu(), graphOptions: input.graphOptions, sources: entry.files, written: new Date().toISOString() }, null, 2)}\n`,
    );
    // Another process may have written the same entry meanwhile: theirs stays, ours goes.
    await rename(partial, entry.folder).catch(() => rm(partial, { recursive: true, force: true }));
    await removeOlderEntries(resolve(directory), entry.prefix, entry.folder, entry.files[0]!.path);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    onWarning?.({
      code: 'PREPACK_CACHE_SKIPPED',
      message: `The prepacked cache entry for ${input.modelPath} could not be completed (${message(error)}); the next load writes it again.`,
      file: entry.folder,
      expected: 'a written cache entry',
      actual: message(error),
    });
  }
  onProgress?.({ ...progress, done: 1 });
  return session;
}

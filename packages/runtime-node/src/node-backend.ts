import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ProgressCallback, VideoLlavaError, type WarningCallback, describeValue } from '@video-llava/core';
import {
  type Backend,
  type BackendCapabilities,
  type ExecutionProvider,
  type ExternalDataFile,
  type InferenceSession,
  type ModelFile,
  type SessionOptions,
  checkSessionOptions,
  describeModelFile,
  executionProviderName,
  inspectOnnxModel,
} from '@video-llava/runtime';
import {
  type OrtExternalDataFile,
  createOrtInferenceSession,
  createWithFirstAvailableProvider,
  firstAvailableProvider,
  externalDataWithoutFolderError,
  normalizeExternalData,
  ortLoadError,
  probeExecutionProvider,
  throwIfLoadAborted,
  toOrtSessionOptions,
} from '@video-llava/runtime/ort';
import { isCudaProviderInstalled } from './cuda-libraries.js';
import { createInplaceBackendSession } from './inplace-backend-session.js';
import { type PrepackedCacheOptions, createThroughPrepackedCache } from './prepacked-cache.js';
import { type OnnxruntimeNode, loadOnnxruntimeNode } from './load-onnxruntime-node.js';
import {
  type ResolvedModel,
  assertFile,
  downloadBytes,
  externalDataFilesOf,
  modelFolder,
  readWholeFile,
  resolveModel,
} from './read-model-source.js';

const BACKEND_NAME = 'onnxruntime-node';

/** Options of {@link createNodeBackend}. */
export interface NodeBackendOptions {
  /**
   * The execution providers tried when a session names none.
   * @default ['cuda', 'cpu'] on Linux x64 (CUDA is skipped where its libraries are not installed), ['cpu'] elsewhere
   */
  defaultExecutionProviders?: readonly string[];
  /**
   * onnxruntime's log level (process-wide, set when the first session loads).
   * @default 'error'
   */
  logLevel?: 'verbose' | 'info' | 'warning' | 'error' | 'fatal';
  /**
   * Keep onnxruntime's prepacked CPU weights on disk between loads: `true` (a `.prepacked` folder beside each model
   * file), a folder, or {@link PrepackedCacheOptions}. The first load of a model file writes its entry (about twice
   * the file's bytes; that load takes about twice as long, once); later loads memory-map it (Video-LLaVA-7B q4
   * decoder: 30 s -> 3-6 s), with the same outputs bit for bit; decode steps from the mapped weights ran slower on
   * the machine this was measured on (see the README). Used for model paths on the CPU provider; URLs,
   * bytes and other providers load as without it. Any trouble with the cache (no room, a damaged entry) gives a
   * warning and a plain load.
   * @default undefined (no cache)
   */
  prepackedCache?: boolean | string | PrepackedCacheOptions;
  /** Receives the prepacked cache's warnings (`PREPACK_CACHE_SKIPPED`, `PREPACK_CACHE_INVALID`). */
  onWarning?: WarningCallback;
}

const availability = new Map<string, Promise<string | undefined>>();

/** Why a provider cannot be used here, or `undefined` when it can (cached per provider and options). */
function providerUnavailableReason(ort: OnnxruntimeNode, provider: ExecutionProvider): Promise<string | undefined> {
  const name = executionProviderName(provider);
  if (name === 'cpu') return Promise.resolve(undefined);
  if ((name === 'cuda' || name === 'tensorrt') && !isCudaProviderInstalled()) {
    return Promise.resolve(
      'the CUDA provider libraries are not installed (onnxruntime-node downloads them only when asked; see the README of @video-llava/runtime-node)',
    );
  }
  return probeExecutionProvider(ort, provider, availability);
}

async function loadData(
  data: NonNullable<ExternalDataFile['data']>,
  field: string,
  onProgress: ProgressCallback | undefined,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (typeof data === 'string' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(data))
    return readWholeFile(resolve(data), 'external data file');
  if (typeof data === 'string' || data instanceof URL) {
    const url = new URL(data.toString());
    if (url.protocol === 'file:') return readWholeFile(fileURLToPath(url), 'external data file');
    if (url.protocol === 'http:' || url.protocol === 'https:') return downloadBytes(url, onProgress, signal);
  }
  throw new VideoLlavaError(
    'INVALID_ARGUMENT',
    `${field} must be a path, a file:/http:/https: URL or bytes, found ${describeValue(data)}.`,
    {
      field,
      expected: 'a path, a URL or bytes',
      actual: describeValue(data),
    },
  );
}

/**
 * External data for onnxruntime-node. Files beside a model path are left to onnxruntime, which memory-maps them;
 * only files given as bytes, found elsewhere, or needed by a model given as bytes are read into memory.
 */
async function prepareExternalData(
  model: ResolvedModel,
  entries: readonly ExternalDataFile[],
  modelName: string,
  onProgress: ProgressCallback | undefined,
  signal: AbortSignal | undefined,
): Promise<OrtExternalDataFile[]> {
  const inMemory: OrtExternalDataFile[] = [];
  if (model.kind === 'path') {
    for (const [index, entry] of entries.entries()) {
      if (entry.data === undefined)
        await assertFile(resolve(modelFolder(model.path), entry.path), 'external data file');
      else
        inMemory.push({
          path: entry.path,
          data: await loadData(entry.data, `options.externalData[${index}].data`, onProgress, signal),
        });
    }
    return inMemory;
  }
  const given = new Map(entries.map((entry) => [entry.path, entry]));
  const names = [...new Set([...(inspectOnnxModel(model.bytes)?.externalDataFiles ?? []), ...given.keys()])];
  for (const name of names) {
    const entry = given.get(name);
    if (entry?.data !== undefined) {
      inMemory.push({ path: name, data: await loadData(entry.data, `options.externalData`, onProgress, signal) });
    } else if (model.baseUrl !== undefined) {
      inMemory.push({ path: name, data: await downloadBytes(new URL(name, model.baseUrl), onProgress, signal) });
    } else {
      throw externalDataWithoutFolderError(modelName, name, [...given.keys()]);
    }
  }
  return inMemory;
}

/** Explains why onnxruntime could not load a model: a missing external data file, or a file it cannot read. */
async function loadFailure(
  error: unknown,
  model: ResolvedModel,
  description: { model: string; file?: string },
  provider: string,
): Promise<VideoLlavaError> {
  if (model.kind === 'path') {
    for (const name of (await externalDataFilesOf(model.path)) ?? []) {
      const dataPath = resolve(modelFolder(model.path), name);
      const missing = await assertFile(dataPath, 'external data file').then(
        () => false,
        () => true,
      );
      if (missing) {
        return new VideoLlavaError(
          'FILE_NOT_FOUND',
          `The external data file ${dataPath} that ${description.model} refers to does not exist.`,
          {
            file: dataPath,
            field: 'location',
            expected: 'the external data file beside the model',
            actual: 'missing',
            cause: error,
          },
        );
      }
    }
  }
  return ortLoadError(BACKEND_NAME, provider, description, error);
}

function prepackedCacheOptions(value: NodeBackendOptions['prepackedCache']): PrepackedCacheOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  if (typeof value === 'string' && value !== '') return { directory: value };
  if (
    typeof value === 'object' &&
    value !== null &&
    (value.directory === undefined || (typeof value.directory === 'string' && value.directory !== '')) &&
    (value.write === undefined || typeof value.write === 'boolean')
  )
    return value;
  throw new VideoLlavaError(
    'INVALID_ARGUMENT',
    `options.prepackedCache must be true, a folder path or { directory?, write? }, found ${describeValue(value)}.`,
    { field: 'options.prepackedCache', expected: 'true, a folder path or an object', actual: describeValue(value) },
  );
}

function defaultProviders(): string[] {
  return process.platform === 'linux' && process.arch === 'x64' ? ['cuda', 'cpu'] : ['cpu'];
}

/**
 * The runtime on onnxruntime-node: CPU everywhere, CUDA where its libraries are installed, WebGPU where Dawn
 * finds an adapter. Model paths go to onnxruntime as paths, so it memory-maps the model's external data.
 * onnxruntime-node is imported on the first `createSession`.
 *
 * @example
 * const backend = createNodeBackend();
 * const session = await backend.createSession('model/onnx/embed_tokens.onnx');
 * const { inputs_embeds } = await session.run({ input_ids: new Tensor('int64', ids, [1, ids.length]) });
 */
export function createNodeBackend(options: NodeBackendOptions = {}): Backend {
  const capabilities: BackendCapabilities = {
    executionProviders: ['cpu', 'cuda', 'tensorrt', 'webgpu', 'dml', 'coreml', 'qnn'],
    defaultExecutionProviders: options.defaultExecutionProviders ?? defaultProviders(),
    filePaths: true,
    urls: true,
    deviceOutputs: true,
    memoryMapping: true,
    cache: false,
    // The in-place runner is built with the package (src/native); where it was not, sessions asking for it fail
    // with UNSUPPORTED and the reason.
    inPlaceOutputs: true,
  };

  const prepackedCache = prepackedCacheOptions(options.prepackedCache);

  const createSession = async (model: ModelFile, sessionOptions: SessionOptions = {}): Promise<InferenceSession> => {
    const providers = checkSessionOptions(sessionOptions, capabilities);
    const entries = normalizeExternalData(sessionOptions.externalData);
    const description = describeModelFile(model);
    const { signal, onProgress } = sessionOptions;
    throwIfLoadAborted(signal, description.model);
    const ort = await loadOnnxruntimeNode();
    ort.env.logLevel = options.logLevel ?? 'error';
    const resolved = await resolveModel(model, onProgress, signal);
    throwIfLoadAborted(signal, description.model);
    const externalData = await prepareExternalData(resolved, entries, description.model, onProgress, signal);
    throwIfLoadAborted(signal, description.model);
    // In place where the runner can load the model (a path, its external data beside it); otherwise a regular
    // session, whose runs fill outputBuffers by a copy.
    if (sessionOptions.inPlaceOutputs && resolved.kind === 'path' && externalData.length === 0) {
      try {
        return await createInplaceBackendSession(resolved.path, sessionOptions, providers, description, BACKEND_NAME);
      } catch (error) {
        if (VideoLlavaError.isInstance(error) && error.code !== 'INVALID_FILE') throw error;
        throw await loadFailure(error, resolved, description, 'cpu');
      }
    }
    const { session, provider } = await createWithFirstAvailableProvider(providers, {
      unavailableReason: (candidate) => providerUnavailableReason(ort, candidate),
      create: async (candidate, name) => {
        const ortOptions = {
          ...toOrtSessionOptions(candidate, sessionOptions, externalData),
          // ONNX Runtime's own default (its count of physical cores) came to 1 of 2 here: use every core the process may.
          intraOpNumThreads: sessionOptions.threads ?? availableParallelism(),
        };
        try {
          if (resolved.kind === 'bytes') return await ort.InferenceSession.create(resolved.bytes, ortOptions);
          if (prepackedCache === undefined || name !== 'cpu' || externalData.length > 0)
            return await ort.InferenceSession.create(resolved.path, ortOptions);
          return await createThroughPrepackedCache({
            options: prepackedCache,
            input: {
              modelPath: resolved.path,
              ortVersion: ort.env.versions?.common ?? 'unknown',
              graphOptions: {
                level: ortOptions.graphOptimizationLevel,
                freeDimensionOverrides: Object.entries(ortOptions.freeDimensionOverrides ?? {}).sort(),
              },
            },
            create: (path, save) => ort.InferenceSession.create(path, { ...ortOptions, ...save }),
            onProgress,
            onWarning: options.onWarning,
          });
        } catch (error) {
          throw await loadFailure(error, resolved, description, name);
        }
      },
      knownProviders: capabilities.executionProviders,
      where: 'on this machine',
    });
    return createOrtInferenceSession(ort, session, { backend: BACKEND_NAME, provider, sessionOptions, description });
  };

  const executionProviderFor = async (sessionOptions: SessionOptions = {}): Promise<string> => {
    const providers = checkSessionOptions(sessionOptions, capabilities);
    const ort = await loadOnnxruntimeNode();
    return firstAvailableProvider(providers, {
      unavailableReason: (candidate) => providerUnavailableReason(ort, candidate),
      knownProviders: capabilities.executionProviders,
      where: 'on this machine',
    });
  };

  return { name: BACKEND_NAME, capabilities, createSession, executionProviderFor };
}

import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ProgressCallback, VideoLlavaError, describeValue } from '@video-llava/core';
import {
  type Backend,
  type BackendCapabilities,
  type ExecutionProvider,
  type ExternalDataFile,
  type InferenceSession,
  type ModelFile,
  type OutputLocation,
  type RuntimeTensor,
  type SessionOptions,
  type ValueMetadata,
  checkSessionOptions,
  createInferenceSession,
  describeModelFile,
  executionProviderName,
  inspectOnnxModel,
  probeModelBytes,
  resolveOutputLocations,
} from '@video-llava/runtime';
import { isCudaProviderInstalled } from './cuda-libraries.js';
import { type OnnxruntimeNode, loadOnnxruntimeNode } from './load-onnxruntime-node.js';
import { fromOrtTensor, toDeviceTensor, toOrtTensor } from './ort-tensors.js';
import { type ResolvedModel, assertFile, downloadBytes, modelFolder, readWholeFile, resolveModel } from './read-model-source.js';

type OrtSession = Awaited<ReturnType<OnnxruntimeNode['InferenceSession']['create']>>;
type OrtSessionOptions = NonNullable<Parameters<OnnxruntimeNode['InferenceSession']['create']>[1]>;
type OrtExternalData = { path: string; data: Uint8Array };

const BACKEND_NAME = 'onnxruntime-node';
/** Past this size a model file is not read back to explain a load failure. */
const LARGEST_MODEL_TO_SCAN = 256 * 1024 * 1024;

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
}

const availability = new Map<string, Promise<string | undefined>>();

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Why a provider cannot be used here, or `undefined` when it can (cached per provider and options). */
function providerUnavailableReason(ort: OnnxruntimeNode, provider: ExecutionProvider): Promise<string | undefined> {
  const name = executionProviderName(provider);
  if (name === 'cpu') return Promise.resolve(undefined);
  if ((name === 'cuda' || name === 'tensorrt') && !isCudaProviderInstalled()) {
    return Promise.resolve('the CUDA provider libraries are not installed (onnxruntime-node downloads them only when asked; see the README of @video-llava/runtime-node)');
  }
  const key = JSON.stringify(provider);
  let pending = availability.get(key);
  if (pending === undefined) {
    pending = ort.InferenceSession.create(probeModelBytes(), { executionProviders: [provider as never], logSeverityLevel: 3 }).then(
      async (session) => {
        await session.release();
        return undefined;
      },
      (error: unknown) => messageOf(error),
    );
    availability.set(key, pending);
  }
  return pending;
}

function metadataOf(values: OrtSession['inputMetadata']): ValueMetadata[] {
  return values.map((value) => (value.isTensor ? { name: value.name, dtype: value.type, shape: [...value.shape] } : { name: value.name, dtype: 'non-tensor', shape: [] }));
}

function abortIfNeeded(signal: AbortSignal | undefined, model: string): void {
  if (signal?.aborted) throw new VideoLlavaError('ABORTED', `Loading ${model} was aborted.`, { cause: signal.reason });
}

async function loadData(data: NonNullable<ExternalDataFile['data']>, field: string, onProgress: ProgressCallback | undefined, signal: AbortSignal | undefined): Promise<Uint8Array> {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (typeof data === 'string' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(data)) return readWholeFile(resolve(data), 'external data file');
  if (typeof data === 'string' || data instanceof URL) {
    const url = new URL(data.toString());
    if (url.protocol === 'file:') return readWholeFile(fileURLToPath(url), 'external data file');
    if (url.protocol === 'http:' || url.protocol === 'https:') return downloadBytes(url, onProgress, signal);
  }
  throw new VideoLlavaError('INVALID_ARGUMENT', `${field} must be a path, a file:/http:/https: URL or bytes, found ${describeValue(data)}.`, {
    field,
    expected: 'a path, a URL or bytes',
    actual: describeValue(data),
  });
}

function normalizeExternalData(entries: SessionOptions['externalData']): ExternalDataFile[] {
  return (entries ?? []).map((entry, index) => {
    const file = typeof entry === 'string' ? { path: entry } : entry;
    if (typeof file?.path !== 'string' || file.path.length === 0) {
      throw new VideoLlavaError('INVALID_ARGUMENT', `options.externalData[${index}] must be a file name or { path, data }, found ${describeValue(entry)}.`, {
        field: `options.externalData[${index}]`,
        expected: 'a file name or { path, data }',
        actual: describeValue(entry),
      });
    }
    return file;
  });
}

/**
 * External data for onnxruntime-node. Files beside a model path are left to onnxruntime, which memory-maps them;
 * only files given as bytes, found elsewhere, or needed by a model given as bytes are read into memory.
 */
async function prepareExternalData(model: ResolvedModel, entries: readonly ExternalDataFile[], modelName: string, onProgress: ProgressCallback | undefined, signal: AbortSignal | undefined): Promise<OrtExternalData[]> {
  const inMemory: OrtExternalData[] = [];
  if (model.kind === 'path') {
    for (const [index, entry] of entries.entries()) {
      if (entry.data === undefined) await assertFile(resolve(modelFolder(model.path), entry.path), 'external data file');
      else inMemory.push({ path: entry.path, data: await loadData(entry.data, `options.externalData[${index}].data`, onProgress, signal) });
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
      throw new VideoLlavaError('INVALID_ARGUMENT', `${modelName} refers to the external data file ${JSON.stringify(name)}, and a model given as bytes has no folder to find it in: pass options.externalData: [{ path: ${JSON.stringify(name)}, data }].`, {
        field: 'options.externalData',
        expected: `an entry { path: ${JSON.stringify(name)}, data }`,
        actual: [...given.keys()],
      });
    }
  }
  return inMemory;
}

/** Explains why onnxruntime could not load a model: a missing external data file, or a file it cannot read. */
async function loadFailure(error: unknown, model: ResolvedModel, description: { model: string; file?: string }, provider: string): Promise<VideoLlavaError> {
  if (model.kind === 'path') {
    const size = (await stat(model.path)).size;
    if (size <= LARGEST_MODEL_TO_SCAN) {
      const bytes = await readWholeFile(model.path, 'model file');
      for (const name of inspectOnnxModel(bytes)?.externalDataFiles ?? []) {
        const dataPath = resolve(modelFolder(model.path), name);
        const missing = await assertFile(dataPath, 'external data file').then(
          () => false,
          () => true,
        );
        if (missing) {
          return new VideoLlavaError('FILE_NOT_FOUND', `The external data file ${dataPath} that ${description.model} refers to does not exist.`, {
            file: dataPath,
            field: 'location',
            expected: 'the external data file beside the model',
            actual: 'missing',
            cause: error,
          });
        }
      }
    }
  }
  return new VideoLlavaError('INVALID_FILE', `onnxruntime-node (${provider}) cannot load ${description.model}: ${messageOf(error)}`, {
    ...(description.file === undefined ? {} : { file: description.file }),
    expected: 'a valid ONNX model',
    cause: error,
  });
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
  };

  const createSession = async (model: ModelFile, sessionOptions: SessionOptions = {}): Promise<InferenceSession> => {
    const providers = checkSessionOptions(sessionOptions, capabilities);
    const entries = normalizeExternalData(sessionOptions.externalData);
    const description = describeModelFile(model);
    const { signal, onProgress } = sessionOptions;
    abortIfNeeded(signal, description.model);
    const ort = await loadOnnxruntimeNode();
    ort.env.logLevel = options.logLevel ?? 'error';
    const resolved = await resolveModel(model, onProgress, signal);
    abortIfNeeded(signal, description.model);
    const externalData = await prepareExternalData(resolved, entries, description.model, onProgress, signal);
    abortIfNeeded(signal, description.model);

    const skipped: string[] = [];
    let session: OrtSession | undefined;
    let provider: ExecutionProvider | undefined;
    for (const candidate of providers) {
      const name = executionProviderName(candidate);
      const reason = await providerUnavailableReason(ort, candidate);
      if (reason !== undefined) {
        skipped.push(`${name}: ${reason}`);
        continue;
      }
      const location = sessionOptions.outputLocation;
      const ortOptions: OrtSessionOptions = {
        executionProviders: [candidate as never],
        logSeverityLevel: 3,
        graphOptimizationLevel: sessionOptions.graphOptimizationLevel ?? 'all',
        ...(sessionOptions.threads === undefined ? {} : { intraOpNumThreads: sessionOptions.threads }),
        ...(sessionOptions.freeDimensionOverrides === undefined ? {} : { freeDimensionOverrides: sessionOptions.freeDimensionOverrides }),
        ...(externalData.length === 0 ? {} : { externalData }),
        // Only WebGPU buffers can stay on a device through onnxruntime-node (CUDA outputs always come back to the host).
        ...(name === 'webgpu' && location !== undefined
          ? { preferredOutputLocation: typeof location === 'string' ? (location === 'device' ? 'gpu-buffer' : 'cpu') : Object.fromEntries(Object.entries(location).map(([key, value]) => [key, value === 'device' ? 'gpu-buffer' : 'cpu'])) }
          : {}),
      };
      try {
        session = resolved.kind === 'path' ? await ort.InferenceSession.create(resolved.path, ortOptions) : await ort.InferenceSession.create(resolved.bytes, ortOptions);
      } catch (error) {
        throw await loadFailure(error, resolved, description, name);
      }
      provider = candidate;
      break;
    }
    if (session === undefined || provider === undefined) {
      throw new VideoLlavaError('UNSUPPORTED', `None of the execution providers asked for is available on this machine: ${skipped.join('; ')}.`, {
        field: 'options.executionProviders',
        expected: capabilities.executionProviders,
        actual: providers.map(executionProviderName),
      });
    }
    const ortSession = session;
    let outputLocations: Record<string, OutputLocation>;
    try {
      abortIfNeeded(signal, description.model);
      outputLocations = resolveOutputLocations(sessionOptions.outputLocation, ortSession.outputNames, description.model);
    } catch (error) {
      await ortSession.release();
      throw error;
    }
    return createInferenceSession(
      {
        inputMetadata: metadataOf(ortSession.inputMetadata),
        outputMetadata: metadataOf(ortSession.outputMetadata),
        executionProvider: executionProviderName(provider),
        outputLocations,
        async run(feeds, outputNames) {
          const ortFeeds: Record<string, ReturnType<typeof toOrtTensor>> = {};
          for (const name in feeds) ortFeeds[name] = toOrtTensor(ort, feeds[name]!);
          const results = await ortSession.run(ortFeeds, outputNames as string[]);
          const outputs: Record<string, RuntimeTensor> = {};
          for (const name of outputNames) {
            const value = results[name]!;
            outputs[name] = outputLocations[name] === 'device' ? toDeviceTensor(value, name, BACKEND_NAME) : fromOrtTensor(value, name);
          }
          return outputs;
        },
        release: () => ortSession.release(),
      },
      // GPU buffers are readable by WebGPU sessions only; other providers take device tensors kept in host memory.
      { ...description, backend: BACKEND_NAME, devices: executionProviderName(provider) === 'webgpu' ? ['webgpu'] : [] },
    );
  };

  return { name: BACKEND_NAME, capabilities, createSession };
}

import { type ProgressCallback, VideoLlavaError, describeValue } from '@video-llava/core';
import {
  type Backend,
  type BackendCapabilities,
  type ExecutionProvider,
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
import { fetchFile } from './fetch-file.js';
import { type OnnxruntimeWeb, importOnnxruntimeWeb, onceLoaded } from './load-onnxruntime-web.js';
import { besidePath, canReadLocalFiles, readLocalFile } from './local-files.js';

const BACKEND_NAME = 'onnxruntime-web';

/** Options of {@link createWebBackend}. */
export interface WebBackendOptions {
  /**
   * Loads onnxruntime-web, on the first `createSession`. Pass another bundle
   * (`() => import('onnxruntime-web/webgpu')`) or a copy served from elsewhere.
   * @default () => import('onnxruntime-web')
   */
  loadOnnxruntime?: () => Promise<OnnxruntimeWeb>;
  /**
   * Where onnxruntime-web fetches its `.wasm` and `.mjs` files (`env.wasm.wasmPaths`), e.g. a CDN folder.
   * @default next to the onnxruntime-web module itself
   */
  wasmPaths?: string;
  /**
   * WebAssembly threads (`env.wasm.numThreads`). Threads need a cross-origin isolated page
   * (`Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`).
   * @default onnxruntime-web's choice: up to 4 when the page is cross-origin isolated, else 1
   */
  threads?: number;
  /**
   * The Cache API cache downloaded model files are kept in, so the next load skips the network; `false` turns
   * caching off. Ignored where the Cache API is missing (Node.js, insecure pages).
   * @default 'video-llava-models'
   */
  cache?: string | false;
  /**
   * The fetch used for model files.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /**
   * The execution providers tried when a session names none.
   * @default ['webgpu', 'wasm'] where `navigator.gpu` exists, else ['wasm']
   */
  defaultExecutionProviders?: readonly string[];
}

/** Where a model's bytes came from: its external data files are looked up beside it. */
type Origin = { kind: 'url'; url: URL } | { kind: 'path'; path: string } | { kind: 'bytes' };

function hasScheme(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(value) && !/^[a-z]:[\\/]/i.test(value);
}

function pageUrl(): string | undefined {
  return (globalThis as { location?: { href?: string } }).location?.href;
}

function fileUrlToPath(url: URL): string {
  const path = decodeURIComponent(url.pathname);
  return /^\/[a-z]:\//i.test(path) ? path.slice(1) : path;
}

/**
 * The runtime on onnxruntime-web: WebAssembly everywhere (threads in a cross-origin isolated page), WebGPU where the
 * browser has it, with outputs kept as GPU buffers when asked. Models and their external data are fetched with
 * progress and kept in the Cache API. In Node.js it runs WebAssembly and reads model paths from disk (used for tests).
 * onnxruntime-web is imported on the first `createSession`.
 *
 * @example
 * const backend = createWebBackend();
 * const session = await backend.createSession(new URL('/models/onnx/embed_tokens.onnx', location.href), {
 *   onProgress: (event) => console.log(event.done, event.total),
 * });
 */
export function createWebBackend(options: WebBackendOptions = {}): Backend {
  const hasWebGpu =
    typeof navigator !== 'undefined' && 'gpu' in navigator && (navigator as { gpu?: unknown }).gpu !== undefined;
  const capabilities: BackendCapabilities = {
    executionProviders: ['webgpu', 'wasm', 'cpu', 'webnn', 'webgl'],
    defaultExecutionProviders: options.defaultExecutionProviders ?? (hasWebGpu ? ['webgpu', 'wasm'] : ['wasm']),
    filePaths: canReadLocalFiles(),
    urls: true,
    deviceOutputs: true,
    memoryMapping: false,
    cache: options.cache !== false && typeof caches !== 'undefined',
  };
  const loadOrt = onceLoaded(options.loadOnnxruntime ?? importOnnxruntimeWeb);
  const fetchImplementation =
    options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const cacheName = options.cache ?? 'video-llava-models';
  const availability = new Map<string, Promise<string | undefined>>();
  let configured = false;

  const configure = (ort: OnnxruntimeWeb, threads: number | undefined): void => {
    if (configured) return;
    configured = true;
    // WebAssembly settings are read once, when the first session initializes onnxruntime-web.
    const count = threads ?? options.threads;
    if (count !== undefined) ort.env.wasm.numThreads = count;
    if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths;
    ort.env.logLevel = 'error';
  };

  const unavailableReason = (ort: OnnxruntimeWeb, provider: ExecutionProvider): Promise<string | undefined> => {
    const name = executionProviderName(provider);
    if (name === 'wasm' || name === 'cpu') return Promise.resolve(undefined);
    return probeExecutionProvider(ort, provider, availability);
  };

  let shaderF16: Promise<boolean> | undefined;
  /** Whether the GPU device onnxruntime-web created (after a WebGPU session loaded) can compute in float16. */
  const webGpuComputesFloat16 = (ort: OnnxruntimeWeb): Promise<boolean> => {
    shaderF16 ??= Promise.resolve(ort.env.webgpu.device).then(
      (device) =>
        (device as { features?: { has(name: string): boolean } } | undefined)?.features?.has('shader-f16') ?? true,
      () => true,
    );
    return shaderF16;
  };

  const readFile = async (
    location: Origin & { kind: 'url' | 'path' },
    what: string,
    onProgress: ProgressCallback | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> => {
    if (location.kind === 'path') return readLocalFile(location.path, what);
    return fetchFile(location.url, { fetch: fetchImplementation, cacheName, what, onProgress, signal });
  };

  /** A path or URL given by the user, as an origin. */
  const locate = (value: string | URL, field: string): Origin & { kind: 'url' | 'path' } => {
    if (typeof value === 'string' && !hasScheme(value) && canReadLocalFiles()) return { kind: 'path', path: value };
    let url: URL;
    try {
      url = typeof value === 'string' ? new URL(value, pageUrl()) : value;
    } catch (error) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `${field} ${describeValue(value)} is not a URL this page can resolve.`,
        { field, expected: 'an absolute URL, or a path in Node.js', actual: value, cause: error },
      );
    }
    if (url.protocol === 'file:' && canReadLocalFiles()) return { kind: 'path', path: fileUrlToPath(url) };
    return { kind: 'url', url };
  };

  const besideModel = (origin: Origin, name: string): (Origin & { kind: 'url' | 'path' }) | undefined => {
    if (origin.kind === 'url') return { kind: 'url', url: new URL(name, origin.url) };
    if (origin.kind === 'path') return { kind: 'path', path: besidePath(origin.path, name) };
    return undefined;
  };

  const loadExternalData = async (
    origin: Origin,
    referenced: readonly string[],
    modelName: string,
    sessionOptions: SessionOptions,
  ): Promise<OrtExternalDataFile[]> => {
    const given = new Map(normalizeExternalData(sessionOptions.externalData).map((file) => [file.path, file]));
    const names = [...new Set([...referenced, ...given.keys()])];
    return Promise.all(
      names.map(async (name) => {
        const data = given.get(name)?.data;
        if (data instanceof Uint8Array) return { path: name, data };
        if (data instanceof ArrayBuffer) return { path: name, data: new Uint8Array(data) };
        const where = data === undefined ? besideModel(origin, name) : locate(data, 'options.externalData');
        if (where === undefined) throw externalDataWithoutFolderError(modelName, name, [...given.keys()]);
        return {
          path: name,
          data: await readFile(where, 'external data file', sessionOptions.onProgress, sessionOptions.signal),
        };
      }),
    );
  };

  const createSession = async (model: ModelFile, sessionOptions: SessionOptions = {}): Promise<InferenceSession> => {
    const providers = checkSessionOptions(sessionOptions, capabilities);
    const description = describeModelFile(model);
    const { signal } = sessionOptions;
    throwIfLoadAborted(signal, description.model);

    let origin: Origin;
    let bytes: Uint8Array;
    if (model instanceof Uint8Array || model instanceof ArrayBuffer) {
      origin = { kind: 'bytes' };
      bytes = model instanceof Uint8Array ? model : new Uint8Array(model);
    } else if (typeof model === 'string' || model instanceof URL) {
      const location = locate(model, 'model');
      origin = location;
      bytes = await readFile(location, 'model', sessionOptions.onProgress, signal);
    } else {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `A model is a URL, a path (Node.js) or bytes (Uint8Array, ArrayBuffer), found ${describeValue(model)}.`,
        {
          field: 'model',
          expected: 'string | URL | Uint8Array | ArrayBuffer',
          actual: describeValue(model),
        },
      );
    }
    throwIfLoadAborted(signal, description.model);
    const summary = inspectOnnxModel(bytes);
    const externalData = await loadExternalData(
      origin,
      summary?.externalDataFiles ?? [],
      description.model,
      sessionOptions,
    );
    throwIfLoadAborted(signal, description.model);
    const ort = await loadOrt();
    configure(ort, sessionOptions.threads);

    const { session, provider } = await createWithFirstAvailableProvider(providers, {
      unavailableReason: async (candidate, name) => {
        const reason = await unavailableReason(ort, candidate);
        if (reason !== undefined || name !== 'webgpu' || summary?.usesFloat16 !== true) return reason;
        // Without shader-f16, onnxruntime-web's WebGPU kernels for float16 fail validation and yield garbage.
        return (await webGpuComputesFloat16(ort))
          ? undefined
          : 'the model uses float16 and this GPU adapter lacks the shader-f16 feature';
      },
      create: async (candidate, name) => {
        try {
          return await ort.InferenceSession.create(bytes, toOrtSessionOptions(candidate, sessionOptions, externalData));
        } catch (error) {
          throw ortLoadError(BACKEND_NAME, name, description, error);
        }
      },
      knownProviders: capabilities.executionProviders,
      where: 'here',
    });
    return createOrtInferenceSession(ort, session, { backend: BACKEND_NAME, provider, sessionOptions, description });
  };

  const executionProviderFor = async (sessionOptions: SessionOptions = {}): Promise<string> => {
    const providers = checkSessionOptions(sessionOptions, capabilities);
    const ort = await loadOrt();
    configure(ort, sessionOptions.threads);
    return firstAvailableProvider(providers, {
      unavailableReason: (candidate) => unavailableReason(ort, candidate),
      knownProviders: capabilities.executionProviders,
      where: 'here',
    });
  };

  return { name: BACKEND_NAME, capabilities, createSession, executionProviderFor };
}

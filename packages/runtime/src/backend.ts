import type { ProgressCallback } from '@video-llava/core';
import type { InferenceSession, OutputLocation } from './inference-session.js';

/**
 * A model to load: a file path (Node), a URL (`http(s):`, `file:`, `blob:`; a relative URL string in a page),
 * or the model's bytes.
 */
export type ModelFile = string | URL | Uint8Array | ArrayBuffer;

/** Execution provider names ONNX Runtime knows; each backend accepts those listed in its capabilities. */
export type ExecutionProviderName =
  | 'cpu'
  | 'cuda'
  | 'tensorrt'
  | 'dml'
  | 'coreml'
  | 'wasm'
  | 'webgpu'
  | 'webnn'
  | (string & {});

/** An execution provider: its name, or its name with provider options (`{ name: 'cuda', deviceId: 1 }`). */
export type ExecutionProvider =
  | ExecutionProviderName
  | { readonly name: ExecutionProviderName; readonly [option: string]: unknown };

/** ONNX Runtime's graph optimization levels. */
export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

/**
 * An external data file of a model (weights kept beside the `.onnx` file, as models over 2 GB must).
 * `path` is the name the model refers to (its `location`, relative to the model's folder).
 */
export interface ExternalDataFile {
  /** The file name as the model refers to it, e.g. `decoder_model_merged.onnx_data`. */
  path: string;
  /**
   * Where to get it: a file path, a URL, or its bytes.
   * @default `path` resolved against the model's folder or URL
   */
  data?: string | URL | Uint8Array | ArrayBuffer;
}

/** Options of {@link Backend.createSession}. */
export interface SessionOptions {
  /**
   * Execution providers in order of preference. The first one available on this machine is used; ONNX Runtime
   * runs the nodes it cannot handle on the CPU.
   * @default the backend's {@link BackendCapabilities.defaultExecutionProviders}
   */
  executionProviders?: readonly ExecutionProvider[];
  /**
   * Threads for one operator (intra-op). In `runtime-web` this sets the WebAssembly thread count, which can only
   * be set before the first session.
   * @default `os.availableParallelism()` in `runtime-node`; in `runtime-web` ONNX Runtime's choice (up to 4 in a
   *   cross-origin isolated page, else 1)
   */
  threads?: number;
  /**
   * Graph optimizations ONNX Runtime applies when loading.
   * @default 'all'
   */
  graphOptimizationLevel?: GraphOptimizationLevel;
  /**
   * The model's external data files. A name alone is looked up beside the model. Sessions created from bytes
   * need each file's `data`. A backend that cannot find data files by itself (bytes, URLs, the browser) reads
   * the model to list them when this is left out.
   * @default the files the model refers to, beside the model
   */
  externalData?: readonly (string | ExternalDataFile)[];
  /**
   * Where outputs stay after a run: `'cpu'` (copied back), or `'device'` (left where the execution provider put
   * them, returned as `DeviceTensor`s that can be fed to the next run, as a KV cache is). One location for every
   * output, or one per output name (outputs not named stay on the CPU).
   * @default 'cpu'
   */
  outputLocation?: OutputLocation | Readonly<Record<string, OutputLocation>>;
  /** Sizes for symbolic dimensions, fixed when the model loads (lets ONNX Runtime plan memory). */
  freeDimensionOverrides?: Readonly<Record<string, number>>;
  /**
   * Run the session so that ONNX Runtime writes the outputs given in `RunOptions.outputBuffers` where they are,
   * nothing copied after the run, an output bound to an input's tensor included (a cache updated in place). Only
   * backends whose {@link BackendCapabilities.inPlaceOutputs} is true accept it (`runtime-node`: its in-place runner,
   * on the CPU provider); such a session needs a buffer for every output it computes. A model the backend cannot run
   * in place (runtime-node: one given as bytes or by URL, or with external data elsewhere) loads as a regular
   * session, whose runs fill the buffers by a copy.
   * @default false
   */
  inPlaceOutputs?: boolean;
  /** Progress of downloads (bytes) while the model and its data files are fetched. */
  onProgress?: ProgressCallback;
  /** Cancels loading: the promise rejects with `ABORTED`. */
  signal?: AbortSignal;
}

/** What a backend can do, so callers (and the conformance suite) can adapt without trying. */
export interface BackendCapabilities {
  /** Execution provider names this backend accepts (whether each is available is only known when tried). */
  readonly executionProviders: readonly string[];
  /** The execution providers used when {@link SessionOptions.executionProviders} is left out. */
  readonly defaultExecutionProviders: readonly string[];
  /** Model files by path (a local file system). */
  readonly filePaths: boolean;
  /** Model files by `http(s):` URL. */
  readonly urls: boolean;
  /** Whether some execution provider of this backend can keep outputs in device memory (WebGPU buffers). */
  readonly deviceOutputs: boolean;
  /** Whether ONNX Runtime memory-maps models and external data given by path instead of reading them into memory. */
  readonly memoryMapping: boolean;
  /** Whether downloaded model files are cached (the Cache API) so that the next load skips the network. */
  readonly cache: boolean;
  /** Whether sessions can be created with {@link SessionOptions.inPlaceOutputs}. @default false */
  readonly inPlaceOutputs?: boolean;
}

/**
 * Runs ONNX models. `@video-llava/runtime-node` and `@video-llava/runtime-web` implement it; the model package
 * takes one as an argument and never imports a backend itself.
 */
export interface Backend {
  /** The backend's name, e.g. `"onnxruntime-node"`. */
  readonly name: string;
  /** What this backend can do. */
  readonly capabilities: BackendCapabilities;
  /**
   * Loads a model.
   * @throws VideoLlavaError `FILE_NOT_FOUND` (the model or an external data file is missing; `file` names it),
   * `INVALID_FILE` (ONNX Runtime cannot load the bytes), `DOWNLOAD_FAILED`, `UNSUPPORTED` (no preferred
   * execution provider is available), `INVALID_ARGUMENT` (bad options), `ABORTED`
   */
  createSession(model: ModelFile, options?: SessionOptions): Promise<InferenceSession>;
  /**
   * The execution provider a session created with `options` would run on (the first of its preferred providers
   * available here), found without loading a model: callers that pick a file per provider ask this first.
   * @throws VideoLlavaError `UNSUPPORTED` when none is available, `INVALID_ARGUMENT` for bad options
   */
  executionProviderFor?(options?: SessionOptions): Promise<string>;
}

import type { DataType } from '@video-llava/core';
import type { Dimension } from '../value-metadata.js';

// The slice of onnxruntime-common's API that both backends use, described structurally: this package never
// imports onnxruntime, and onnxruntime-node's and onnxruntime-web's own types fit these interfaces as they are.

/** Where onnxruntime keeps a tensor's data: `'cpu'`, `'cpu-pinned'`, `'gpu-buffer'`, ... */
export type OrtDataLocation = 'cpu' | 'cpu-pinned' | 'texture' | 'gpu-buffer' | 'ml-tensor' | (string & {});

/** An onnxruntime tensor (`Tensor` of onnxruntime-common), as the backends read it. */
export interface OrtTensor {
  /** The element type, e.g. `'float32'` (onnxruntime knows more than video-llava.js tensors hold). */
  readonly type: string;
  /** Dimensions, outermost first. */
  readonly dims: readonly number[];
  /** The data in host memory (throws for a tensor on a device). */
  readonly data: unknown;
  /** Where the data is. */
  readonly location: OrtDataLocation;
  /** Copies the data to host memory, wherever it is. */
  getData(): Promise<unknown>;
  /** Frees the data. */
  dispose(): void;
}

/** onnxruntime's `Tensor` class, as the backends construct it: a CPU tensor over a typed array (no copy). */
export interface OrtTensorConstructor {
  new (type: DataType, data: never, dims: readonly number[]): OrtTensor;
}

/** One input or output of an onnxruntime session, as its `inputMetadata` / `outputMetadata` lists it. */
export type OrtValueMetadata =
  | { readonly name: string; readonly isTensor: false }
  | { readonly name: string; readonly isTensor: true; readonly type: string; readonly shape: readonly Dimension[] };

/** An onnxruntime session (`InferenceSession` of onnxruntime-common), as the backends use it. */
export interface OrtSession {
  readonly inputMetadata: readonly OrtValueMetadata[];
  readonly outputMetadata: readonly OrtValueMetadata[];
  readonly outputNames: readonly string[];
  /** Runs the model, returning the outputs named in `fetches`. */
  run(
    feeds: Readonly<Record<string, OrtTensor>>,
    fetches: readonly string[],
  ): Promise<Readonly<Record<string, OrtTensor>>>;
  /** Frees the session. */
  release(): Promise<void>;
}

/** An external data file given to onnxruntime as bytes (`externalData` of its session options). */
export interface OrtExternalDataFile {
  /** The name the model refers to the file by. */
  path: string;
  /** The file's bytes. */
  data: Uint8Array;
}

/** The session options the backends pass to onnxruntime (a subset of onnxruntime-common's `SessionOptions`). */
export interface OrtSessionOptions {
  executionProviders: readonly (string | { readonly name: string })[];
  logSeverityLevel: 0 | 1 | 2 | 3 | 4;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  intraOpNumThreads?: number;
  freeDimensionOverrides?: Readonly<Record<string, number>>;
  externalData?: readonly OrtExternalDataFile[];
  /** Outputs are left in host memory (`'cpu'`) or as WebGPU buffers (`'gpu-buffer'`), all or by name. */
  preferredOutputLocation?: 'cpu' | 'gpu-buffer' | Readonly<Record<string, 'cpu' | 'gpu-buffer'>>;
}

/** The part of an onnxruntime module (onnxruntime-node, any bundle of onnxruntime-web) the shared helpers use. */
export interface OnnxruntimeModule {
  /** The tensor class feeds are wrapped in. */
  readonly Tensor: OrtTensorConstructor;
  readonly InferenceSession: {
    /** Loads a model from its bytes. */
    create(model: Uint8Array, options: OrtSessionOptions): Promise<OrtSession>;
  };
}

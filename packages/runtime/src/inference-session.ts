import type { Tensor } from '@video-llava/core';
import type { RuntimeTensor } from './runtime-tensor.js';
import type { ValueMetadata } from './value-metadata.js';

/** Where a session leaves an output: copied to the CPU, or kept on the execution provider's device. */
export type OutputLocation = 'cpu' | 'device';

/** The inputs of one run, by input name. */
export type SessionFeeds = Readonly<Record<string, RuntimeTensor>>;

/** The outputs of one run, by output name. */
export type SessionOutputs = Record<string, RuntimeTensor>;

/** Options of one {@link InferenceSession.run}. */
export interface RunOptions {
  /**
   * The outputs to compute and return, by name.
   * @default every output of the model
   */
  outputs?: readonly string[];
  /**
   * CPU tensors to write outputs into, by output name (those named are computed even when `outputs` leaves them
   * out); the run returns these very tensors for them. Each must have the dtype and dims the run produces. An output
   * may be given the tensor fed to an input: the cache of an operator that updates its past in place (ONNX
   * Runtime's `GroupQueryAttention`, past and present in one buffer). A session created with
   * {@link SessionOptions.inPlaceOutputs} has ONNX Runtime write into them directly; others compute the output,
   * then copy it in.
   */
  outputBuffers?: Readonly<Record<string, Tensor>>;
  /**
   * Cancels the run: the promise rejects with an `ABORTED` error right away. ONNX Runtime cannot stop a run
   * that has started, so its result is dropped (device outputs freed) when it arrives.
   */
  signal?: AbortSignal;
}

/**
 * A loaded model, ready to run. Every backend's sessions behave the same way (the conformance suite in
 * `@video-llava/runtime/testing` checks it): feeds are checked against the model's inputs before ONNX Runtime
 * sees them, and every failure is a `VideoLlavaError` with a stable code.
 */
export interface InferenceSession {
  /** The model's input names, in the model's order. */
  readonly inputNames: readonly string[];
  /** The model's output names, in the model's order. */
  readonly outputNames: readonly string[];
  /** Name, dtype and shape (with symbolic dimensions) of each input. */
  readonly inputMetadata: readonly ValueMetadata[];
  /** Name, dtype and shape (with symbolic dimensions) of each output. */
  readonly outputMetadata: readonly ValueMetadata[];
  /** The execution provider the session runs on (the first of the preferred ones that was available). */
  readonly executionProvider: string;
  /** Where each output is left after a run, by output name. */
  readonly outputLocations: Readonly<Record<string, OutputLocation>>;
  /** Whether {@link release} was called. */
  readonly released: boolean;
  /**
   * Runs the model. Runs of one session are queued and execute one at a time.
   *
   * @param feeds one tensor per model input (CPU tensors or device tensors from this backend)
   * @returns the requested outputs: CPU tensors, or device tensors for outputs kept on the device
   * @throws VideoLlavaError `INVALID_ARGUMENT` (unknown or missing input, unknown output), `DTYPE_MISMATCH`,
   * `SHAPE_MISMATCH` (rank or a fixed dimension), each message showing the model's signature;
   * `SESSION_RELEASED`; `ABORTED`; `RUNTIME_ERROR` when ONNX Runtime fails
   */
  run(feeds: SessionFeeds, options?: RunOptions): Promise<SessionOutputs>;
  /**
   * Frees the model once the runs already asked for have finished; runs asked for afterwards fail with
   * `SESSION_RELEASED`. Calling it again does nothing.
   */
  release(): Promise<void>;
}

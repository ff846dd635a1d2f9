import type { Tensor } from '@video-llava/core';
import type { OutputLocation } from './inference-session.js';
import type { RuntimeTensor } from './runtime-tensor.js';
import type { ValueMetadata } from './value-metadata.js';

/**
 * The little a backend implements per session; {@link createInferenceSession} adds everything every backend
 * shares (feed validation, the run queue, abort, release). Not for application code.
 */
export interface SessionAdapter {
  /** The model's inputs. */
  readonly inputMetadata: readonly ValueMetadata[];
  /** The model's outputs. */
  readonly outputMetadata: readonly ValueMetadata[];
  /** The execution provider in use. */
  readonly executionProvider: string;
  /** Where each output is left, by name. */
  readonly outputLocations: Readonly<Record<string, OutputLocation>>;
  /**
   * Whether {@link run} writes the `outputBuffers` it is given itself (ONNX Runtime writing into them). When not,
   * they are not passed, and {@link createInferenceSession} copies the outputs into them after the run.
   */
  readonly writesOutputBuffers?: boolean;
  /**
   * Runs the model with feeds that were already checked, returning exactly the outputs named.
   * Errors it throws that are not `VideoLlavaError`s become `RUNTIME_ERROR`s.
   * @param outputBuffers with {@link writesOutputBuffers}: tensors (checked CPU tensors of the outputs' dtypes) to
   *   write the named outputs into, and to return for them
   */
  run(
    feeds: Readonly<Record<string, RuntimeTensor>>,
    outputNames: readonly string[],
    outputBuffers?: Readonly<Record<string, Tensor>>,
  ): Promise<Record<string, RuntimeTensor>>;
  /** Frees the model; called once, with no run in progress. */
  release(): Promise<void>;
}

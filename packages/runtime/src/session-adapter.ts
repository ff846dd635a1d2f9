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
   * Runs the model with feeds that were already checked, returning exactly the outputs named.
   * Errors it throws that are not `VideoLlavaError`s become `RUNTIME_ERROR`s.
   */
  run(
    feeds: Readonly<Record<string, RuntimeTensor>>,
    outputNames: readonly string[],
  ): Promise<Record<string, RuntimeTensor>>;
  /** Frees the model; called once, with no run in progress. */
  release(): Promise<void>;
}

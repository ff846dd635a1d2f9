import { Tensor, VideoLlavaError, describeValue } from '@video-llava/core';
import { DeviceTensor } from './device-tensor.js';
import type {
  InferenceSession,
  OutputLocation,
  RunOptions,
  SessionFeeds,
  SessionOutputs,
} from './inference-session.js';
import type { RuntimeTensor } from './runtime-tensor.js';
import type { SessionAdapter } from './session-adapter.js';
import { type FeedContext, validateFeeds } from './validate-feeds.js';
import { formatSignature, type ValueMetadata } from './value-metadata.js';

/** What {@link createInferenceSession} needs besides the adapter. */
export type SessionContext = FeedContext;

const ignore = (): void => undefined;

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function abortedError(signal: AbortSignal, what: string): VideoLlavaError {
  return new VideoLlavaError('ABORTED', `The ${what} was aborted.`, { cause: signal.reason });
}

/** Frees the device outputs of a run whose result nobody will read. */
function disposeOutputs(outputs: Record<string, RuntimeTensor>): void {
  for (const value of Object.values(outputs)) if (DeviceTensor.isInstance(value)) value.dispose();
}

class ValidatingInferenceSession implements InferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ValueMetadata[];
  readonly outputMetadata: readonly ValueMetadata[];
  readonly executionProvider: string;
  readonly outputLocations: Readonly<Record<string, OutputLocation>>;
  readonly #adapter: SessionAdapter;
  readonly #context: SessionContext;
  readonly #outputSet: ReadonlySet<string>;
  /** The last run accepted (it may reject: the queue and release() wait for it to settle either way). */
  #last: Promise<unknown> = Promise.resolve();
  /** Runs accepted and not yet settled: with none, a run starts at once instead of waiting a turn of the queue. */
  #inFlight = 0;
  #released = false;
  #releasing: Promise<void> | undefined;

  constructor(adapter: SessionAdapter, context: SessionContext) {
    this.#adapter = adapter;
    this.#context = context;
    this.inputMetadata = Object.freeze([...adapter.inputMetadata]);
    this.outputMetadata = Object.freeze([...adapter.outputMetadata]);
    this.inputNames = Object.freeze(this.inputMetadata.map((value) => value.name));
    this.outputNames = Object.freeze(this.outputMetadata.map((value) => value.name));
    this.executionProvider = adapter.executionProvider;
    this.outputLocations = Object.freeze({ ...adapter.outputLocations });
    this.#outputSet = new Set(this.outputNames);
  }

  get released(): boolean {
    return this.#released;
  }

  run(feeds: SessionFeeds, options: RunOptions = {}): Promise<SessionOutputs> {
    try {
      this.#assertUsable();
      const { signal } = options;
      if (signal?.aborted) throw abortedError(signal, `run of ${this.#context.model}`);
      validateFeeds(feeds, this.inputMetadata, this.#context);
      const buffers = this.#checkOutputBuffers(options.outputBuffers);
      let outputNames = this.#resolveOutputs(options.outputs);
      if (buffers) outputNames = [...new Set([...outputNames, ...Object.keys(buffers)])];
      const start = (): Promise<SessionOutputs> => this.#execute(feeds, outputNames, signal, buffers);
      const queued = this.#inFlight === 0 ? start() : this.#last.then(start, start);
      this.#inFlight++;
      // One handler both counts the run out and turns a failure into a VideoLlavaError: a tiny model runs in
      // microseconds, so each extra promise hop shows.
      const result = queued.then(
        (outputs) => {
          this.#inFlight--;
          return outputs;
        },
        (error: unknown) => {
          this.#inFlight--;
          throw this.#runFailure(error);
        },
      );
      this.#last = result;
      return signal === undefined ? result : this.#raceAbort(result, signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  release(): Promise<void> {
    if (this.#releasing === undefined) {
      this.#released = true;
      this.#releasing = this.#last.then(ignore, ignore).then(async () => {
        try {
          await this.#adapter.release();
        } catch (error) {
          throw new VideoLlavaError(
            'RUNTIME_ERROR',
            `Releasing the session of ${this.#context.model} failed: ${errorMessage(error)}`,
            { cause: error, ...this.#file() },
          );
        }
      });
    }
    return this.#releasing;
  }

  #file(): { file?: string } {
    return this.#context.file === undefined ? {} : { file: this.#context.file };
  }

  #assertUsable(): void {
    if (this.#released) {
      throw new VideoLlavaError(
        'SESSION_RELEASED',
        `The session of ${this.#context.model} was released; create a new one to run it again.`,
        {
          ...this.#file(),
          field: 'session',
          expected: 'a session that has not been released',
          actual: 'released',
        },
      );
    }
  }

  #resolveOutputs(requested: readonly string[] | undefined): readonly string[] {
    if (requested === undefined) return this.outputNames;
    if (!Array.isArray(requested) || requested.length === 0) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `options.outputs of a run of ${this.#context.model} must name at least one output, found ${describeValue(requested)}. Its outputs: ${formatSignature(this.outputMetadata)}.`,
        {
          ...this.#file(),
          field: 'options.outputs',
          expected: this.outputNames,
          actual: requested,
        },
      );
    }
    for (const name of requested) {
      if (!this.#outputSet.has(name)) {
        throw new VideoLlavaError(
          'INVALID_ARGUMENT',
          `Unknown output ${JSON.stringify(name)} requested from ${this.#context.model}. Its outputs: ${formatSignature(this.outputMetadata)}.`,
          {
            ...this.#file(),
            field: 'options.outputs',
            expected: this.outputNames,
            actual: name,
          },
        );
      }
    }
    return requested;
  }

  /** `options.outputBuffers`, checked: known outputs, CPU tensors of the declared dtype and rank. */
  #checkOutputBuffers(
    buffers: Readonly<Record<string, Tensor>> | undefined,
  ): Readonly<Record<string, Tensor>> | undefined {
    if (buffers === undefined) return undefined;
    if (typeof buffers !== 'object' || buffers === null)
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `options.outputBuffers of a run of ${this.#context.model} must be an object of tensors by output name, found ${describeValue(buffers)}.`,
        { ...this.#file(), field: 'options.outputBuffers', expected: 'an object', actual: describeValue(buffers) },
      );
    for (const [name, buffer] of Object.entries(buffers)) {
      const metadata = this.outputMetadata.find((value) => value.name === name);
      const field = `options.outputBuffers.${name}`;
      if (metadata === undefined)
        throw new VideoLlavaError(
          'INVALID_ARGUMENT',
          `options.outputBuffers names ${JSON.stringify(name)}, which is not an output of ${this.#context.model}. Its outputs: ${formatSignature(this.outputMetadata)}.`,
          { ...this.#file(), field, expected: this.outputNames, actual: name },
        );
      if (!(buffer instanceof Tensor))
        throw new VideoLlavaError(
          'INVALID_ARGUMENT',
          `${field} must be a CPU Tensor, found ${describeValue(buffer)}.`,
          {
            ...this.#file(),
            field,
            expected: 'a Tensor',
            actual: describeValue(buffer),
          },
        );
      // An empty declared shape is a scalar or an unknown rank (ONNX Runtime reports both alike): rank not checked.
      if (
        buffer.dtype !== metadata.dtype ||
        (metadata.shape.length > 0 && buffer.dims.length !== metadata.shape.length)
      )
        throw new VideoLlavaError(
          'DTYPE_MISMATCH',
          `${field} is ${buffer.dtype}[${buffer.dims.join(', ')}], but ${this.#context.model} returns ${formatSignature([metadata])}.`,
          {
            ...this.#file(),
            field,
            expected: `${metadata.dtype} of rank ${metadata.shape.length}`,
            actual: `${buffer.dtype}[${buffer.dims.join(', ')}]`,
          },
        );
    }
    return buffers;
  }

  // A run accepted before release() still runs: release() waits for every accepted run.
  #execute(
    feeds: SessionFeeds,
    outputNames: readonly string[],
    signal: AbortSignal | undefined,
    buffers: Readonly<Record<string, Tensor>> | undefined,
  ): Promise<SessionOutputs> {
    if (signal?.aborted) return Promise.reject(abortedError(signal, `run of ${this.#context.model}`));
    try {
      if (buffers === undefined) return this.#adapter.run(feeds, outputNames);
      if (this.#adapter.writesOutputBuffers) return this.#adapter.run(feeds, outputNames, buffers);
      return this.#adapter.run(feeds, outputNames).then((outputs) => this.#copyInto(outputs, buffers));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The outputs with those that have a buffer copied into it (an adapter that cannot write them in place). */
  async #copyInto(
    outputs: Record<string, RuntimeTensor>,
    buffers: Readonly<Record<string, Tensor>>,
  ): Promise<SessionOutputs> {
    const result: SessionOutputs = { ...outputs };
    for (const [name, buffer] of Object.entries(buffers)) {
      const output = outputs[name]!;
      const cpu = DeviceTensor.isInstance(output) ? await output.download() : output;
      if (cpu.dtype !== buffer.dtype || cpu.dims.join() !== buffer.dims.join())
        throw new VideoLlavaError(
          'SHAPE_MISMATCH',
          `${this.#context.model} returned ${name} as ${cpu.dtype}[${cpu.dims.join(', ')}], but options.outputBuffers.${name} is ${buffer.dtype}[${buffer.dims.join(', ')}].`,
          {
            ...this.#file(),
            field: `options.outputBuffers.${name}`,
            expected: `${cpu.dtype}[${cpu.dims.join(', ')}]`,
            actual: `${buffer.dtype}[${buffer.dims.join(', ')}]`,
          },
        );
      buffer.data.set(cpu.data as never);
      if (DeviceTensor.isInstance(output)) output.dispose();
      result[name] = buffer;
    }
    return result;
  }

  /** A failed run as a VideoLlavaError: those of the adapter as they are, ONNX Runtime's with the signature. */
  #runFailure(error: unknown): VideoLlavaError {
    if (VideoLlavaError.isInstance(error)) return error;
    const message = errorMessage(error);
    const code = /out of memory|failed to allocate|bad_alloc|allocation failed/i.test(message)
      ? 'OUT_OF_MEMORY'
      : 'RUNTIME_ERROR';
    return new VideoLlavaError(
      code,
      `Running ${this.#context.model} failed: ${message} ${this.#context.model} expects ${formatSignature(this.inputMetadata)}.`,
      {
        ...this.#file(),
        cause: error,
      },
    );
  }

  #raceAbort(result: Promise<SessionOutputs>, signal: AbortSignal): Promise<SessionOutputs> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(abortedError(signal, `run of ${this.#context.model}`));
      signal.addEventListener('abort', onAbort, { once: true });
      result.then(
        (outputs) => {
          signal.removeEventListener('abort', onAbort);
          if (signal.aborted) {
            disposeOutputs(outputs);
            reject(abortedError(signal, `run of ${this.#context.model}`));
          } else {
            resolve(outputs);
          }
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }
}

/**
 * Wraps a backend's {@link SessionAdapter} into an {@link InferenceSession} with the behaviour every backend
 * shares: feeds checked against the model's signature, requested outputs checked, runs queued one at a time,
 * abort, release (idempotent, after the run in progress), and ONNX Runtime failures turned into
 * `RUNTIME_ERROR`s that show the signature.
 */
export function createInferenceSession(adapter: SessionAdapter, context: SessionContext): InferenceSession {
  return new ValidatingInferenceSession(adapter, context);
}

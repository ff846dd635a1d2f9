import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DataType, type Tensor, VideoLlavaError, elementCount } from '@video-llava/core';

/**
 * Options of {@link createInplaceSession}: ONNX Runtime's session options, as the C API takes them.
 */
export interface InplaceSessionOptions {
  /** Threads of the session's intra-op pool. @default ONNX Runtime's default (one per physical core) */
  intraOpThreads?: number;
  /** Threads of the inter-op pool (parallel execution only). */
  interOpThreads?: number;
  /** Graph optimizations. @default 'all' */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Writes ONNX Runtime's per-node profile to `<profilePrefix>_<date>.json` ({@link InplaceSession.endProfiling}). */
  profilePrefix?: string;
  /** Session configuration entries (`AddSessionConfigEntry`), e.g. `{ 'session.intra_op.allow_spinning': '0' }`. */
  config?: Readonly<Record<string, string>>;
}

/**
 * A model run with every input and output in memory that JavaScript owns: ONNX Runtime reads the feeds and writes
 * the outputs where they are, and nothing is copied after the run. An output may be the same tensor as an input
 * (a key/value cache that an operator such as `GroupQueryAttention` updates in place).
 */
export interface InplaceSession {
  /** The model's input names, in the model's order. */
  readonly inputNames: readonly string[];
  /** The model's output names, in the model's order. */
  readonly outputNames: readonly string[];
  /** Each input's element type and shape (a symbolic dimension by its name), in the model's order. */
  readonly inputMetadata: readonly InplaceValueMetadata[];
  /** Each output's element type and shape, in the model's order. */
  readonly outputMetadata: readonly InplaceValueMetadata[];
  /**
   * Runs the model on `feeds` and writes the named outputs into `outputs`, whose dims must be those the run
   * produces. Runs of one session execute one at a time, in order.
   * @throws VideoLlavaError `INVALID_ARGUMENT` (unknown or missing input, unknown output, a tensor that does not
   * fit its dims), `SESSION_RELEASED`, `RUNTIME_ERROR` (ONNX Runtime's message, e.g. an output of the wrong shape)
   */
  run(feeds: Readonly<Record<string, Tensor>>, outputs: Readonly<Record<string, Tensor>>): Promise<void>;
  /** Ends profiling and returns the profile's path (only with {@link InplaceSessionOptions.profilePrefix}). */
  endProfiling(): string;
  /** Frees the model once the runs already asked for have finished. Calling it again does nothing. */
  release(): Promise<void>;
}

/** An input or output as the model declares it (the shape of `@video-llava/runtime`'s `ValueMetadata`). */
export interface InplaceValueMetadata {
  readonly name: string;
  /** A core dtype, or `element type N` for one core tensors cannot hold (ONNX's number). */
  readonly dtype: DataType | (string & {});
  /** Sizes and symbolic dimension names (`''` for an unnamed one). */
  readonly shape: readonly (number | string)[];
}

/** ONNX's element type numbers, by core dtype. */
const ELEMENT_TYPES: Readonly<Record<DataType, number>> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
};

const OPTIMIZATION_LEVELS = { disabled: 0, basic: 1, extended: 2, all: 99 } as const;

type Binding = [name: string, elementType: number, dims: number[], data: ArrayBufferView];

interface NativeType {
  name: string;
  elementType: number;
  dims: Array<number | string>;
}

interface NativeSession {
  readonly inputNames: string[];
  readonly outputNames: string[];
  inputTypes(): NativeType[];
  outputTypes(): NativeType[];
  run(inputs: Binding[], outputs: Binding[]): Promise<void>;
  endProfiling(): string;
  release(): void;
}

interface NativeModule {
  load(libraryPath: string): string;
  createSession(modelPath: string, options: Record<string, unknown>): Promise<NativeSession>;
}

const ADDON = 'video_llava_inplace.node';

/** Where the built addon may be: beside the bundle (dist/index.js) or, from the sources, in dist/native. */
function addonCandidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  return [join(here, 'native', ADDON), join(here, '..', 'dist', 'native', ADDON)];
}

/** The folder of onnxruntime-node's native libraries for this platform. */
function onnxruntimeLibrary(): string {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('onnxruntime-node/package.json'));
  const file = process.platform === 'darwin' ? 'libonnxruntime.1.dylib' : 'libonnxruntime.so.1';
  return join(root, 'bin', 'napi-v6', process.platform, process.arch, file);
}

let native: { module: NativeModule; version: string } | undefined;

function unsupported(message: string, cause?: unknown): VideoLlavaError {
  return new VideoLlavaError(
    'UNSUPPORTED',
    `${message} Build it with \`node node_modules/@video-llava/runtime-node/src/native/build.mjs\` (a C++ compiler and Node.js's headers are needed), or use createNodeBackend's sessions.`,
    { field: 'in-place runner', expected: `a built ${ADDON}`, actual: message, ...(cause ? { cause } : {}) },
  );
}

/**
 * Loads the in-place runner (a small Node-API addon over ONNX Runtime's C API, built from this package's
 * `src/native` by its build) and the ONNX Runtime library that onnxruntime-node ships.
 * @returns ONNX Runtime's version
 * @throws VideoLlavaError `UNSUPPORTED` when the addon was not built or the library cannot be loaded
 */
export function loadInplaceRunner(): string {
  if (native) return native.version;
  const path = addonCandidates().find((candidate) => existsSync(candidate));
  if (!path) throw unsupported(`The in-place runner is not built (no ${addonCandidates().join(' or ')}).`);
  let module: NativeModule;
  try {
    module = createRequire(import.meta.url)(path) as NativeModule;
  } catch (error) {
    throw unsupported(`The in-place runner ${path} cannot be loaded: ${(error as Error).message}.`, error);
  }
  const library = onnxruntimeLibrary();
  let version: string;
  try {
    version = module.load(library);
  } catch (error) {
    throw unsupported(`ONNX Runtime could not be loaded from ${library}: ${(error as Error).message}.`, error);
  }
  native = { module, version };
  return version;
}

/** Whether {@link createInplaceSession} can run here (the addon is built and ONNX Runtime loads). */
export function isInplaceRunnerAvailable(): boolean {
  try {
    loadInplaceRunner();
    return true;
  } catch {
    return false;
  }
}

function checkThreads(value: number | undefined, field: string): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0))
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `${field} must be a whole number of threads (0: default), found ${value}.`,
      {
        field,
        expected: 'an integer >= 0',
        actual: value,
      },
    );
}

/**
 * Creates an {@link InplaceSession} for the ONNX file at `modelPath` (external data beside it), on ONNX Runtime's
 * CPU provider.
 * @throws VideoLlavaError `UNSUPPORTED` (runner not built), `INVALID_ARGUMENT` (options), `INVALID_FILE` (ONNX
 * Runtime cannot load the model: its message)
 */
export async function createInplaceSession(
  modelPath: string,
  options: InplaceSessionOptions = {},
): Promise<InplaceSession> {
  loadInplaceRunner();
  checkThreads(options.intraOpThreads, 'intraOpThreads');
  checkThreads(options.interOpThreads, 'interOpThreads');
  const level = OPTIMIZATION_LEVELS[options.graphOptimizationLevel ?? 'all'];
  if (level === undefined)
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `graphOptimizationLevel must be one of ${Object.keys(OPTIMIZATION_LEVELS).join(', ')}, found ${String(options.graphOptimizationLevel)}.`,
      {
        field: 'graphOptimizationLevel',
        expected: Object.keys(OPTIMIZATION_LEVELS).join(', '),
        actual: options.graphOptimizationLevel,
      },
    );
  let session: NativeSession;
  try {
    session = await native!.module.createSession(modelPath, {
      ...(options.intraOpThreads !== undefined ? { intraOpThreads: options.intraOpThreads } : {}),
      ...(options.interOpThreads !== undefined ? { interOpThreads: options.interOpThreads } : {}),
      graphOptimizationLevel: level,
      ...(options.profilePrefix ? { profilePrefix: options.profilePrefix } : {}),
      ...(options.config ? { config: { ...options.config } } : {}),
    });
  } catch (error) {
    throw new VideoLlavaError('INVALID_FILE', `ONNX Runtime cannot load ${modelPath}: ${(error as Error).message}`, {
      file: modelPath,
      cause: error,
    });
  }
  return new Session(session);
}

function toBindings(
  tensors: Readonly<Record<string, Tensor>>,
  known: readonly string[],
  what: 'input' | 'output',
): Binding[] {
  const bindings: Binding[] = [];
  for (const [name, tensor] of Object.entries(tensors)) {
    if (!known.includes(name))
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `The model has no ${what} "${name}"; its ${what}s: ${known.join(', ')}.`,
        {
          field: name,
          expected: `one of ${known.join(', ')}`,
          actual: name,
        },
      );
    if (tensor.data.length !== elementCount(tensor.dims))
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `The ${what} "${name}" holds ${tensor.data.length} elements for dims [${tensor.dims.join(', ')}].`,
        { field: name, expected: elementCount(tensor.dims), actual: tensor.data.length },
      );
    bindings.push([name, ELEMENT_TYPES[tensor.dtype], [...tensor.dims], tensor.data]);
  }
  return bindings;
}

const DTYPES = new Map(Object.entries(ELEMENT_TYPES).map(([dtype, code]) => [code, dtype as DataType]));

function toMetadata(types: NativeType[]): InplaceValueMetadata[] {
  return types.map(({ name, elementType, dims }) => ({
    name,
    dtype: DTYPES.get(elementType) ?? `element type ${elementType}`,
    shape: dims,
  }));
}

class Session implements InplaceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly InplaceValueMetadata[];
  readonly outputMetadata: readonly InplaceValueMetadata[];
  #native: NativeSession | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(session: NativeSession) {
    this.#native = session;
    this.inputNames = session.inputNames;
    this.outputNames = session.outputNames;
    this.inputMetadata = toMetadata(session.inputTypes());
    this.outputMetadata = toMetadata(session.outputTypes());
  }

  run(feeds: Readonly<Record<string, Tensor>>, outputs: Readonly<Record<string, Tensor>>): Promise<void> {
    const session = this.#native;
    if (!session) return Promise.reject(new VideoLlavaError('SESSION_RELEASED', 'The session was released.'));
    const missing = this.inputNames.filter((name) => !(name in feeds));
    if (missing.length > 0)
      return Promise.reject(
        new VideoLlavaError('INVALID_ARGUMENT', `Missing inputs: ${missing.join(', ')}.`, {
          field: missing[0]!,
          expected: this.inputNames.join(', '),
          actual: Object.keys(feeds).join(', '),
        }),
      );
    let inputs: Binding[];
    let outputBindings: Binding[];
    try {
      inputs = toBindings(feeds, this.inputNames, 'input');
      outputBindings = toBindings(outputs, this.outputNames, 'output');
    } catch (error) {
      return Promise.reject(error);
    }
    const result = this.#queue.then(() =>
      session.run(inputs, outputBindings).catch((error: unknown) => {
        throw new VideoLlavaError('RUNTIME_ERROR', `ONNX Runtime failed: ${(error as Error).message}`, {
          cause: error,
        });
      }),
    );
    this.#queue = result.catch(() => undefined);
    return result;
  }

  endProfiling(): string {
    if (!this.#native) throw new VideoLlavaError('SESSION_RELEASED', 'The session was released.');
    return this.#native.endProfiling();
  }

  async release(): Promise<void> {
    const session = this.#native;
    if (!session) return;
    this.#native = undefined;
    await this.#queue;
    session.release();
  }
}

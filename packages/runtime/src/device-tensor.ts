import { type DataType, type Dims, type Tensor, VideoLlavaError, elementCount } from '@video-llava/core';

const marker = Symbol.for('@video-llava/device-tensor');

/** What a backend gives {@link DeviceTensor}'s constructor. */
export interface DeviceTensorInit<T extends DataType> {
  /** Element type. */
  dtype: T;
  /** Dimensions, outermost first. */
  dims: Dims;
  /** Where the data lives: the execution provider's device, e.g. `"webgpu"`, or `"cpu"` when it could not leave host memory. */
  device: string;
  /** The name of the backend that made it (a device tensor is only valid for sessions of that backend). */
  backend: string;
  /** The backend's own value (e.g. an `onnxruntime` tensor). Opaque to everyone but that backend. */
  handle: unknown;
  /** Copies the data to a CPU {@link Tensor}. */
  download(): Promise<Tensor<T>>;
  /** Frees the device memory. Called once, by {@link DeviceTensor.dispose}. */
  dispose?(): void;
}

/**
 * A tensor whose data stays where the execution provider computed it (a GPU buffer, say), so that it can be
 * fed to the next run without a round trip through the CPU: the KV cache between decoding steps.
 *
 * Sessions return device tensors for the outputs asked to stay on the `'device'`
 * ({@link SessionOptions.outputLocation}). Read the data with {@link download}; free it with {@link dispose}
 * once no run needs it any more (feeding a tensor to a run does not free it).
 */
export class DeviceTensor<T extends DataType = DataType> {
  /** Marks device tensors across copies of this package (see {@link DeviceTensor.isInstance}). */
  readonly [marker] = true;
  /** Always `'device'`; a CPU {@link Tensor} has no `location`. */
  readonly location = 'device' as const;
  /** Element type. */
  readonly dtype: T;
  /** Dimensions, outermost first. */
  readonly dims: Dims;
  /** Where the data lives, e.g. `"webgpu"`; `"cpu"` when the execution provider keeps outputs in host memory. */
  readonly device: string;
  /** The backend that made this tensor. */
  readonly backend: string;
  readonly #handle: unknown;
  readonly #download: () => Promise<Tensor<T>>;
  readonly #dispose: (() => void) | undefined;
  #disposed = false;

  constructor(init: DeviceTensorInit<T>) {
    this.dtype = init.dtype;
    this.dims = Object.freeze([...init.dims]);
    this.device = init.device;
    this.backend = init.backend;
    this.#handle = init.handle;
    this.#download = init.download;
    this.#dispose = init.dispose;
  }

  /** True for a device tensor made by any copy of this package. */
  static isInstance(value: unknown): value is DeviceTensor {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }

  /** Number of elements. */
  get size(): number {
    return elementCount(this.dims);
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.dims.length;
  }

  /** Whether {@link dispose} has been called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /**
   * The backend's own value, for the backend that made this tensor.
   * @throws VideoLlavaError `INVALID_ARGUMENT` once the tensor is disposed
   */
  get handle(): unknown {
    this.#assertAlive('used');
    return this.#handle;
  }

  /**
   * Copies the data to a CPU tensor (the device copy stays until {@link dispose}).
   * @throws VideoLlavaError `INVALID_ARGUMENT` once the tensor is disposed
   */
  async download(): Promise<Tensor<T>> {
    this.#assertAlive('downloaded');
    return this.#download();
  }

  /** Frees the device memory. Calling it again does nothing. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#dispose?.();
  }

  /** A short description for logs and errors: `float32[1,4,0,16]@webgpu`. */
  toString(): string {
    return `${this.dtype}[${this.dims.join(',')}]@${this.device}`;
  }

  #assertAlive(what: string): void {
    if (this.#disposed) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `The device tensor ${this.toString()} was disposed and cannot be ${what}.`,
        {
          field: 'tensor',
          expected: 'a device tensor that has not been disposed',
          actual: 'disposed',
        },
      );
    }
  }
}

import { VideoLlavaError, describeValue, elementCount } from '@video-llava/core';
import { DeviceTensor } from './device-tensor.js';
import { isCpuTensor } from './runtime-tensor.js';
import { formatSignature, formatType, type ValueMetadata } from './value-metadata.js';

/** What {@link validateFeeds} needs to know about the session. */
export interface FeedContext {
  /** The model, as messages name it (a file name, a URL, `"model bytes"`). */
  model: string;
  /** The model's path or URL for the error's `file`, when it has one. */
  file?: string;
  /** The backend running the session: device tensors of other backends are refused. */
  backend: string;
  /**
   * The devices whose tensors the session can take as they are (e.g. `['webgpu']` for a WebGPU session); device
   * tensors elsewhere are refused, except those kept in host memory (`device: 'cpu'`), which any session takes.
   * @default any device of the backend
   */
  devices?: readonly string[];
}

const namesOf = new WeakMap<readonly ValueMetadata[], ReadonlySet<string>>();

/** The input names as a set, made once per frozen signature (as sessions keep theirs). */
function inputNames(inputs: readonly ValueMetadata[]): ReadonlySet<string> {
  let names = namesOf.get(inputs);
  if (names === undefined) {
    names = new Set(inputs.map((input) => input.name));
    if (Object.isFrozen(inputs)) namesOf.set(inputs, names);
  }
  return names;
}

/** One thing wrong with a run's feeds: the error's code, its sentence, and its typed data. */
interface FeedProblem {
  code: 'INVALID_ARGUMENT' | 'DTYPE_MISMATCH' | 'SHAPE_MISMATCH';
  /** What is wrong; the model's input signature is appended. */
  message: string;
  /** `feeds` or `feeds.<name>`. */
  field: string;
  expected: unknown;
  actual: unknown;
}

function fail(context: FeedContext, inputs: readonly ValueMetadata[], problem: FeedProblem): never {
  const { code, message, field, expected, actual } = problem;
  throw new VideoLlavaError(code, `${message} ${context.model} expects ${formatSignature(inputs)}.`, {
    ...(context.file === undefined ? {} : { file: context.file }),
    field,
    expected,
    actual,
  });
}

/**
 * Checks a run's feeds against the model's inputs before ONNX Runtime sees them: every name known, none missing,
 * each a tensor of the declared dtype, with the declared rank and every fixed dimension's size. Every message
 * shows the model's whole input signature (`a: float32[batch, 3], ...`).
 *
 * @throws VideoLlavaError `INVALID_ARGUMENT`, `DTYPE_MISMATCH` or `SHAPE_MISMATCH`, with `field` = `feeds.<name>`
 */
export function validateFeeds(feeds: unknown, inputs: readonly ValueMetadata[], context: FeedContext): void {
  if (typeof feeds !== 'object' || feeds === null || Array.isArray(feeds)) {
    fail(context, inputs, {
      code: 'INVALID_ARGUMENT',
      message: `The feeds of a run of ${context.model} must be an object of tensors by input name, found ${describeValue(feeds)}.`,
      field: 'feeds',
      expected: 'an object of tensors by input name',
      actual: feeds,
    });
  }
  const record = feeds as Record<string, unknown>;
  const names = inputNames(inputs);
  for (const name in record) {
    if (!names.has(name) && Object.hasOwn(record, name)) {
      fail(context, inputs, {
        code: 'INVALID_ARGUMENT',
        message: `Unknown input ${JSON.stringify(name)} fed to ${context.model}.`,
        field: `feeds.${name}`,
        expected: inputs.map((input) => input.name),
        actual: name,
      });
    }
  }
  // Runs of a small model take microseconds: the messages are only formatted when something is wrong.
  for (const input of inputs) {
    const field = `feeds.${input.name}`;
    const expectedType = (): string => formatType(input.dtype, input.shape);
    const value = record[input.name];
    if (value === undefined) {
      fail(context, inputs, {
        code: 'INVALID_ARGUMENT',
        message: `Missing input ${JSON.stringify(input.name)} (${expectedType()}) of ${context.model}.`,
        field,
        expected: expectedType(),
        actual: undefined,
      });
    }
    let dtype: string;
    let dims: readonly number[];
    if (DeviceTensor.isInstance(value)) {
      if (value.disposed) {
        fail(context, inputs, {
          code: 'INVALID_ARGUMENT',
          message: `Input ${JSON.stringify(input.name)} of ${context.model} is a disposed device tensor (${value.toString()}).`,
          field,
          expected: 'a live tensor',
          actual: 'disposed',
        });
      }
      if (value.backend !== context.backend) {
        fail(context, inputs, {
          code: 'INVALID_ARGUMENT',
          message: `Input ${JSON.stringify(input.name)} of ${context.model} is a device tensor of backend ${value.backend}; this session runs on ${context.backend}. Download it first (toCpuTensor).`,
          field,
          expected: context.backend,
          actual: value.backend,
        });
      }
      const { devices } = context;
      if (devices !== undefined && value.device !== 'cpu' && !devices.includes(value.device)) {
        const accepted =
          devices.length === 0
            ? 'no device tensors but those in host memory'
            : `device tensors on ${devices.join(', ')}`;
        fail(context, inputs, {
          code: 'INVALID_ARGUMENT',
          message: `Input ${JSON.stringify(input.name)} of ${context.model} is a device tensor on ${value.device} (${value.toString()}); this session takes ${accepted}. Download it first (toCpuTensor).`,
          field,
          expected: ['cpu', ...devices],
          actual: value.device,
        });
      }
      dtype = value.dtype;
      dims = value.dims;
    } else if (isCpuTensor(value)) {
      dtype = value.dtype;
      dims = value.dims;
      if (value.data.length !== elementCount(dims)) {
        fail(context, inputs, {
          code: 'SHAPE_MISMATCH',
          message: `Input ${JSON.stringify(input.name)} of ${context.model} has ${value.data.length} elements but dims [${dims.join(', ')}].`,
          field,
          expected: elementCount(dims),
          actual: value.data.length,
        });
      }
    } else {
      fail(context, inputs, {
        code: 'INVALID_ARGUMENT',
        message: `Input ${JSON.stringify(input.name)} of ${context.model} must be a Tensor or a DeviceTensor, found ${describeValue(value)}.`,
        field,
        expected: expectedType(),
        actual: describeValue(value),
      });
    }
    const actualType = (): string => `${dtype}[${dims.join(', ')}]`;
    if (dtype !== input.dtype) {
      fail(context, inputs, {
        code: 'DTYPE_MISMATCH',
        message: `Input ${JSON.stringify(input.name)} of ${context.model} is ${actualType()}; its dtype must be ${input.dtype}.`,
        field,
        expected: expectedType(),
        actual: actualType(),
      });
    }
    const shape = input.shape;
    if (shape.length === 0) continue;
    if (dims.length !== shape.length) {
      fail(context, inputs, {
        code: 'SHAPE_MISMATCH',
        message: `Input ${JSON.stringify(input.name)} of ${context.model} is ${actualType()}, rank ${dims.length}; expected rank ${shape.length} (${expectedType()}).`,
        field,
        expected: expectedType(),
        actual: actualType(),
      });
    }
    for (let axis = 0; axis < shape.length; axis++) {
      const expected = shape[axis];
      if (typeof expected === 'number' && dims[axis] !== expected) {
        fail(context, inputs, {
          code: 'SHAPE_MISMATCH',
          message: `Input ${JSON.stringify(input.name)} of ${context.model} is ${actualType()}; dimension ${axis} must be ${expected} (${expectedType()}).`,
          field,
          expected: expectedType(),
          actual: actualType(),
        });
      }
    }
  }
}

// The mock backend runs the same conformance suite as onnxruntime-node and onnxruntime-web, with the conformance
// models scripted in JavaScript: what packages above the runtime test against behaves like the real backends.
import { Tensor, VideoLlavaError, float16ToFloat32 } from '@video-llava/core';
import type { ExternalDataFile, ModelFile, SessionOptions } from '../backend.js';
import { inspectOnnxModel } from '../inspect-onnx-model.js';
import { buildConformanceModels } from './conformance-models.js';
import { describeBackendConformance } from './conformance-suite.js';
import { type MockModel, createMockBackend } from './mock-backend.js';

const models = buildConformanceModels();

function map<T extends 'float32' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool'>(
  tensor: Tensor,
  dtype: T,
  fn: (value: never) => unknown,
): Tensor<T> {
  const data = Array.from(tensor.data as ArrayLike<unknown>, (value) => fn(value as never));
  const typed = {
    float32: Float32Array,
    int64: BigInt64Array,
    int32: Int32Array,
    int8: Int8Array,
    uint8: Uint8Array,
    bool: Uint8Array,
  }[dtype];
  return new Tensor(dtype, (typed as unknown as { from(values: unknown[]): never }).from(data), tensor.dims);
}

function matmul(x: Tensor): Tensor<'float32'> {
  const rows = x.dims[0]!;
  const out = new Float32Array(rows * 3);
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < 3; column++) {
      let sum = 0;
      for (let inner = 0; inner < 4; inner++)
        sum += (x.data[row * 4 + inner] as number) * models.weights.w[inner * 3 + column]!;
      out[row * 3 + column] = sum + models.weights.bias[column]!;
    }
  }
  return new Tensor('float32', out, [rows, 3]);
}

const matmulScript: MockModel = {
  inputs: [{ name: 'x', dtype: 'float32', shape: ['n', 4] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: ['n', 3] }],
  run: (feeds) => ({ y: matmul(feeds.x!) }),
};

const scripts = new Map<Uint8Array, MockModel>([
  [
    models.add,
    {
      inputs: [
        { name: 'a', dtype: 'float32', shape: ['batch', 3] },
        { name: 'b', dtype: 'float32', shape: ['batch', 3] },
      ],
      outputs: [{ name: 'c', dtype: 'float32', shape: ['batch', 3] }],
      run: (feeds) => ({
        c: new Tensor(
          'float32',
          (feeds.a!.data as Float32Array).map((value, index) => value + (feeds.b!.data as Float32Array)[index]!),
          feeds.a!.dims,
        ),
      }),
    },
  ],
  [models.matmul, matmulScript],
  [models.externalData, matmulScript],
  [
    models.dtypes,
    {
      inputs: [
        { name: 'i64', dtype: 'int64', shape: [3] },
        { name: 'i32', dtype: 'int32', shape: [2] },
        { name: 'i8', dtype: 'int8', shape: [2] },
        { name: 'u8', dtype: 'uint8', shape: [4] },
        { name: 'flag', dtype: 'bool', shape: [3] },
      ],
      outputs: [
        { name: 'i64_out', dtype: 'int64', shape: [3] },
        { name: 'i32_out', dtype: 'int32', shape: [2] },
        { name: 'i8_out', dtype: 'int8', shape: [2] },
        { name: 'u8_out', dtype: 'uint8', shape: [4] },
        { name: 'flag_out', dtype: 'bool', shape: [3] },
      ],
      run: (feeds) => ({
        i64_out: map(feeds.i64!, 'int64', (value: bigint) => value * 2n),
        i32_out: map(feeds.i32!, 'int32', (value: number) => value * 2),
        i8_out: feeds.i8!,
        u8_out: feeds.u8!,
        flag_out: map(feeds.flag!, 'bool', (value: number) => (value === 0 ? 1 : 0)),
      }),
    },
  ],
  [
    models.float16,
    {
      inputs: [{ name: 'f16', dtype: 'float16', shape: [2, 2] }],
      outputs: [
        { name: 'f16_out', dtype: 'float16', shape: [2, 2] },
        { name: 'f16_as_f32', dtype: 'float32', shape: [2, 2] },
      ],
      run: (feeds) => ({
        f16_out: feeds.f16!,
        f16_as_f32: new Tensor('float32', float16ToFloat32(feeds.f16!.data as Uint16Array), feeds.f16!.dims),
      }),
    },
  ],
  [
    models.symbolic,
    {
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 'sequence', 2] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 'sequence', 2] }],
      run: (feeds) => ({ y: map(feeds.x!, 'float32', (value: number) => value * value) }),
    },
  ],
  [
    models.kvCache,
    {
      inputs: [
        { name: 'past', dtype: 'float32', shape: [1, 'past_sequence', 2] },
        { name: 'current', dtype: 'float32', shape: [1, 'sequence', 2] },
      ],
      outputs: [
        { name: 'present', dtype: 'float32', shape: [1, 'total_sequence', 2] },
        { name: 'doubled', dtype: 'float32', shape: [1, 'sequence', 2] },
      ],
      run: ({ past, current }) => ({
        present: new Tensor(
          'float32',
          Float32Array.from([...(past!.data as Float32Array), ...(current!.data as Float32Array)]),
          [1, past!.dims[1]! + current!.dims[1]!, 2],
        ),
        doubled: map(current!, 'float32', (value: number) => value * 2),
      }),
    },
  ],
]);

const sameBytes = (left: Uint8Array, right: Uint8Array): boolean =>
  left.length === right.length && left.every((byte, index) => byte === right[index]);

/** Files the suite placed, by `mock://<folder>/<name>`. */
const files = new Map<string, Uint8Array>();
let folders = 0;

function bytesOf(data: NonNullable<ExternalDataFile['data']>): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return files.get(data.toString());
}

/** Loads a placed file or bytes as a real backend would: missing files, corrupt bytes and missing external data fail. */
function pickModel(model: ModelFile, options: SessionOptions): MockModel | undefined {
  const location = typeof model === 'string' || model instanceof URL ? model.toString() : undefined;
  const bytes = location === undefined ? new Uint8Array(model as Uint8Array | ArrayBuffer) : files.get(location);
  if (bytes === undefined) return undefined;
  const summary = inspectOnnxModel(bytes);
  const script = [...scripts].find(([candidate]) => sameBytes(candidate, bytes))?.[1];
  if (summary === undefined || script === undefined) {
    throw new VideoLlavaError('INVALID_FILE', `The mock backend cannot load ${location ?? 'the model bytes'}.`, {
      ...(location === undefined ? {} : { file: location }),
      expected: 'a conformance model',
    });
  }
  const given = (options.externalData ?? []).map((entry) => (typeof entry === 'string' ? { path: entry } : entry));
  for (const name of new Set([...summary.externalDataFiles, ...given.map((entry) => entry.path)])) {
    const data = given.find((entry) => entry.path === name)?.data;
    const beside = location === undefined ? undefined : new URL(name, location).href;
    const found = data === undefined ? (beside === undefined ? undefined : files.get(beside)) : bytesOf(data);
    if (found === undefined)
      throw new VideoLlavaError('FILE_NOT_FOUND', `The external data file ${beside ?? name} does not exist.`, {
        file: beside ?? name,
      });
    if (!sameBytes(found, models.externalDataFile))
      throw new VideoLlavaError('INVALID_FILE', `${name} is not the conformance data file.`, { file: name });
  }
  return script;
}

describeBackendConformance('mock backend (conformance models scripted)', () => ({
  backend: createMockBackend({ models: pickModel }),
  async placeFiles(placed) {
    const folder = `mock://files/${++folders}/`;
    for (const [name, bytes] of Object.entries(placed)) files.set(new URL(name, folder).href, bytes.slice());
    return (name) => new URL(name, folder).href;
  },
  expectedExecutionProvider: 'cpu',
  expectedDevice: 'mock',
}));

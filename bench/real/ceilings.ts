import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { ExternalDataLayout, GraphBuilder, createModel, encodeModel } from '@video-llava/onnx';
import * as ort from 'onnxruntime-node';
import { median } from '../types.js';
import { cacheRoot } from './paths.js';

// The machine's ceilings, measured with onnxruntime-node in the same run as the model: how fast ONNX Runtime's own
// kernels stream weights from memory and multiply, on the same threads. Models are built with @video-llava/onnx and
// kept in the cache (weights as external data).

/** What {@link measureCeilings} found. */
export interface Ceilings {
  threads: number;
  /** fp32 MatMul 1x4096x11008 (and back), a chain over `streamBytes` of weights: weight bytes read per second. */
  streamGBps: number;
  streamBytes: number;
  /** fp32 MatMul 2048x4096x4096: FLOP per second (1e9). */
  fp32MatMulGflops: number;
  /** MatMulNBits 4-bit, block 32, accuracy_level 4 (int8 compute), 512 rows x 4096 x 4096, a chain: GFLOP/s. */
  int8MatMulGflops: number;
  /** The same MatMulNBits chain with one row: weight bytes (4-bit blocks and scales) read per second. */
  q4GemvGBps: number;
  q4Bytes: number;
}

const MODEL_VERSION = 1;
const HIDDEN = 4096;
const INTERMEDIATE = 11008;
const STREAM_PAIRS = 4; // 8 matrices of 4096x11008 fp32: 1.44 GB
const Q4_MATRICES = 16; // 16 matrices of 4096x4096 in 4-bit blocks: 143 MB (beyond the last-level cache)

async function buildOnce(name: string, build: (folder: string) => Promise<void>): Promise<string> {
  const folder = join(cacheRoot(), 'ceilings', `${name}-v${MODEL_VERSION}`);
  if (existsSync(join(folder, 'done'))) return join(folder, 'model.onnx');
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  await build(folder);
  writeFileSync(join(folder, 'done'), '');
  return join(folder, 'model.onnx');
}

/** Writes `graph` with its initializers (already in `dataFile`) as `model.onnx`. */
function writeModel(folder: string, graph: GraphBuilder, contrib = false): void {
  const model = createModel(graph.build(), { opsetImports: contrib ? { '': 17, 'com.microsoft': 1 } : { '': 17 } });
  writeFileSync(join(folder, 'model.onnx.partial'), encodeModel(model));
  renameSync(join(folder, 'model.onnx.partial'), join(folder, 'model.onnx'));
}

async function streamModel(): Promise<string> {
  return buildOnce('stream-fp32', async (folder) => {
    const graph = new GraphBuilder('stream');
    const layout = new ExternalDataLayout('model.onnx_data');
    const data = await open(join(folder, 'model.onnx_data'), 'w');
    let x = graph.input('x', 'float32', [1, HIDDEN]);
    for (let pair = 0; pair < STREAM_PAIRS; pair++) {
      for (const [rows, columns] of [
        [HIDDEN, INTERMEDIATE],
        [INTERMEDIATE, HIDDEN],
      ] as const) {
        // Every weight 1/rows: each output is the mean of the inputs, so values stay 1 through the chain.
        const values = new Float32Array(rows * columns).fill(1 / rows);
        const { reference, padding } = layout.place(values.byteLength);
        await data.write(new Uint8Array(padding));
        await data.write(new Uint8Array(values.buffer));
        const weight = graph.initializer(`w${pair}_${rows}`, {
          dataType: 'float32',
          dims: [rows, columns],
          externalData: reference,
        });
        x = graph.op('MatMul', [x, weight]);
      }
    }
    await data.close();
    graph.output(x, 'float32', [1, HIDDEN], 'y');
    writeModel(folder, graph);
  });
}

async function fp32MatMulModel(): Promise<string> {
  return buildOnce('matmul-fp32', async (folder) => {
    const graph = new GraphBuilder('matmul');
    const x = graph.input('x', 'float32', ['rows', HIDDEN]);
    const weight = graph.initializer('w', {
      dataType: 'float32',
      dims: [HIDDEN, HIDDEN],
      data: new Float32Array(HIDDEN * HIDDEN).fill(1 / HIDDEN),
    });
    graph.output(graph.op('MatMul', [x, weight]), 'float32', ['rows', HIDDEN], 'y');
    writeModel(folder, graph);
  });
}

async function q4Model(): Promise<string> {
  return buildOnce(`matmulnbits-q4-acc4-x${Q4_MATRICES}`, async (folder) => {
    const graph = new GraphBuilder('q4');
    const layout = new ExternalDataLayout('model.onnx_data');
    const data = await open(join(folder, 'model.onnx_data'), 'w');
    const blocks = HIDDEN / 32;
    let x = graph.input('x', 'float32', ['rows', HIDDEN]);
    let state = 12345;
    for (let index = 0; index < Q4_MATRICES; index++) {
      const packed = new Uint8Array(HIDDEN * blocks * 16);
      for (let byte = 0; byte < packed.length; byte++) {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        packed[byte] = state >>> 24;
      }
      // Random nibbles around the zero point 8: each output is a sum of 4096 terms of random sign; this scale keeps
      // the values near 1 through the chain.
      const scales = new Float32Array(HIDDEN * blocks).fill(1 / 300);
      const place = async (bytes: Uint8Array) => {
        const { reference, padding } = layout.place(bytes.byteLength);
        await data.write(new Uint8Array(padding));
        await data.write(bytes);
        return reference;
      };
      const b = graph.initializer(`b${index}`, {
        dataType: 'uint8',
        dims: [HIDDEN, blocks, 16],
        externalData: await place(packed),
      });
      const s = graph.initializer(`s${index}`, {
        dataType: 'float32',
        dims: [HIDDEN * blocks],
        externalData: await place(new Uint8Array(scales.buffer)),
      });
      x = graph.op(
        'MatMulNBits',
        [x, b, s],
        { K: HIDDEN, N: HIDDEN, bits: 4, block_size: 32, accuracy_level: 4 },
        { domain: 'com.microsoft' },
      );
    }
    await data.close();
    graph.output(x, 'float32', ['rows', HIDDEN], 'y');
    writeModel(folder, graph, true);
  });
}

async function timeRuns(
  session: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
  repeats: number,
): Promise<number> {
  await session.run(feeds);
  const times: number[] = [];
  for (let index = 0; index < repeats; index++) {
    const started = performance.now();
    const outputs = await session.run(feeds);
    times.push(performance.now() - started);
    const y = outputs['y']!.data as Float32Array;
    if (!Number.isFinite(y[0]!)) throw new Error('a ceiling model produced a non-finite value');
  }
  return median(times) / 1000;
}

function input(rows: number): Record<string, ort.Tensor> {
  const values = Float32Array.from({ length: rows * HIDDEN }, (_, index) => 1 + 0.01 * Math.sin(index));
  return { x: new ort.Tensor('float32', values, [rows, HIDDEN]) };
}

/**
 * The weight-streaming ceiling alone (the {@link Ceilings.streamGBps} measurement: the same model, runs and options),
 * for benches that compare against it without the MatMul ceilings.
 */
export async function measureStreamingGBps(threads: number): Promise<number> {
  const session = await ort.InferenceSession.create(await streamModel(), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
    graphOptimizationLevel: 'all',
  });
  try {
    return (STREAM_PAIRS * 2 * HIDDEN * INTERMEDIATE * 4) / (await timeRuns(session, input(1), 9)) / 1e9;
  } finally {
    await session.release();
  }
}

/** Measures the ceilings on `threads` threads (ONNX Runtime's intra-op pool, as our sessions get), or on a GPU provider. */
export async function measureCeilings(
  threads: number,
  log: (line: string) => void,
  executionProvider = 'cpu',
): Promise<Ceilings> {
  const options: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
    graphOptimizationLevel: 'all',
    ...(executionProvider === 'cpu' ? {} : { executionProviders: [executionProvider] }),
  };
  log('ceilings: building or reusing the models');
  const [streamFile, matmulFile, q4File] = [await streamModel(), await fp32MatMulModel(), await q4Model()];

  let session = await ort.InferenceSession.create(streamFile, options);
  const streamBytes = STREAM_PAIRS * 2 * HIDDEN * INTERMEDIATE * 4;
  const streamSeconds = await timeRuns(session, input(1), 9);
  await session.release();

  session = await ort.InferenceSession.create(matmulFile, options);
  const matmulSeconds = await timeRuns(session, input(2048), 3);
  await session.release();

  session = await ort.InferenceSession.create(q4File, options);
  const q4Bytes = Q4_MATRICES * (HIDDEN * HIDDEN * 0.5 + HIDDEN * (HIDDEN / 32) * 4);
  const gemvSeconds = await timeRuns(session, input(1), 9);
  const int8Seconds = await timeRuns(session, input(512), 3);
  await session.release();

  const ceilings: Ceilings = {
    threads,
    streamGBps: streamBytes / streamSeconds / 1e9,
    streamBytes,
    fp32MatMulGflops: (2 * 2048 * HIDDEN * HIDDEN) / matmulSeconds / 1e9,
    int8MatMulGflops: (2 * 512 * HIDDEN * HIDDEN * Q4_MATRICES) / int8Seconds / 1e9,
    q4GemvGBps: q4Bytes / gemvSeconds / 1e9,
    q4Bytes,
  };
  log(
    `ceilings: stream ${ceilings.streamGBps.toFixed(1)} GB/s, fp32 MatMul ${ceilings.fp32MatMulGflops.toFixed(0)} GFLOP/s, int8 MatMulNBits ${ceilings.int8MatMulGflops.toFixed(0)} GFLOP/s, q4 GEMV ${ceilings.q4GemvGBps.toFixed(1)} GB/s`,
  );
  return ceilings;
}

/** Reads a JSON file if it exists. */
export function readJsonIfExists<T>(file: string): T | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
}

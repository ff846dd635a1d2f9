import { Tensor } from '@video-llava/core';
import { GraphBuilder, createModel, encodeModel } from '@video-llava/onnx';
import type { Backend } from '@video-llava/runtime';
import { createNodeBackend } from '@video-llava/runtime-node';
import { createWebBackend } from '@video-llava/runtime-web';
import { type BenchRow, type BenchSuite, median, medianMs } from './types.js';

/** Calls per timing: a tiny model runs in microseconds, so one timing covers many calls. */
const CALLS = 500;
const ROUNDS = 31;

/** `c = a + b` over float32[batch, 3]: the model does almost nothing, so the time is the call's own cost. */
function tinyModel(): Uint8Array {
  const graph = new GraphBuilder('add');
  graph.input('a', 'float32', ['batch', 3]);
  graph.input('b', 'float32', ['batch', 3]);
  graph.output(graph.op('Add', ['a', 'b']), 'float32', ['batch', 3], 'c');
  return encodeModel(createModel(graph.build()));
}

/**
 * Times `ours` and `raw` in alternation (which goes first alternates too), so that JIT warm-up and the load of a
 * shared machine hit both alike. Returns the median time of each and the median of the per-round ratios, which
 * cancels load that drifts between rounds.
 */
async function pairedMedians(
  ours: () => Promise<unknown>,
  raw: () => Promise<unknown>,
): Promise<{ ours: number; raw: number; ratio: number }> {
  const oursTimes: number[] = [];
  const rawTimes: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const warmup = round === 0 ? 2 : 0;
    let oursTime: number;
    let rawTime: number;
    if (round % 2 === 0) {
      oursTime = await medianMs(ours, 1, warmup);
      rawTime = await medianMs(raw, 1, warmup);
    } else {
      rawTime = await medianMs(raw, 1, warmup);
      oursTime = await medianMs(ours, 1, warmup);
    }
    oursTimes.push(oursTime);
    rawTimes.push(rawTime);
    ratios.push(oursTime / rawTime);
  }
  return { ours: median(oursTimes), raw: median(rawTimes), ratio: median(ratios) };
}

/** The part of onnxruntime-node and onnxruntime-web that a raw call uses (their APIs agree here). */
interface RawOrt {
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
  InferenceSession: {
    create(
      model: Uint8Array,
      options: object,
    ): Promise<{
      run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>>;
      release(): Promise<void>;
    }>;
  };
}

async function measure(label: string, backend: Backend, ort: RawOrt, provider: string): Promise<BenchRow> {
  const model = tinyModel();
  const a = Float32Array.from([1, 2, 3]);
  const b = Float32Array.from([10, 20, 30]);
  const ours = await backend.createSession(model, {
    executionProviders: [provider],
    threads: 1,
    graphOptimizationLevel: 'all',
  });
  const raw = await ort.InferenceSession.create(model, {
    executionProviders: [provider],
    intraOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  try {
    // Both sides do what a caller does: wrap the typed arrays, run, read the output's data.
    const oursCalls = async (): Promise<void> => {
      for (let call = 0; call < CALLS; call++) {
        const { c } = await ours.run({ a: new Tensor('float32', a, [1, 3]), b: new Tensor('float32', b, [1, 3]) });
        if ((c as Tensor).data[2] !== 33) throw new Error(`${label}: wrong sum`);
      }
    };
    const rawCalls = async (): Promise<void> => {
      for (let call = 0; call < CALLS; call++) {
        const { c } = await raw.run({
          a: new ort.Tensor('float32', a, [1, 3]),
          b: new ort.Tensor('float32', b, [1, 3]),
        });
        if ((c!.data as Float32Array)[2] !== 33) throw new Error(`${label}: wrong sum`);
      }
    };
    const { ours: oursMs, raw: rawMs, ratio } = await pairedMedians(oursCalls, rawCalls);
    const perCall = (milliseconds: number): number => (milliseconds / CALLS) * 1000;
    return {
      name: `${label}: run() per call`,
      value: perCall(oursMs),
      unit: 'µs/call',
      peer: { name: `raw ${label} session.run`, value: perCall(rawMs) },
      ratio,
      ratioMeaning: 'ours / raw, median of paired rounds (lower is better; 1 = no overhead)',
      note: `overhead ${(perCall(oursMs) - perCall(rawMs)).toFixed(1)} µs/call; Add over float32[1, 3], ${provider}, 1 thread, ${CALLS} calls x ${ROUNDS} rounds`,
    };
  } finally {
    await ours.release();
    await raw.release();
  }
}

// The per-call cost of the runtime interface (feed checks, the run queue, output wrapping) over calling
// onnxruntime directly, on a model so small that the call itself is all there is to time.
const suite: BenchSuite = {
  title: 'Runtime: run() per-call overhead over a raw onnxruntime call, same tiny model',
  async run(): Promise<BenchRow[]> {
    const nodeModule = (await import('onnxruntime-node')) as unknown as RawOrt & { default?: RawOrt };
    const ortNode = nodeModule.default ?? nodeModule;
    const ortWeb = (await import('onnxruntime-web')) as unknown as RawOrt & { env: { wasm: { numThreads?: number } } };
    ortWeb.env.wasm.numThreads = 1;
    return [
      await measure('onnxruntime-node', createNodeBackend(), ortNode, 'cpu'),
      await measure(
        'onnxruntime-web in Node.js',
        createWebBackend({ threads: 1, loadOnnxruntime: async () => ortWeb as never }),
        ortWeb,
        'wasm',
      ),
    ];
  },
};

export default suite;

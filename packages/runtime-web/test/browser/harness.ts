// The page side of the Chromium tests: runtime-web itself, driven through window.__runtimeHarness.
import type { ProgressEvent } from '@video-llava/core';
import {
  DeviceTensor,
  type InferenceSession,
  type ModelFile,
  type RuntimeTensor,
  type SessionOptions,
  isCpuTensor,
} from '@video-llava/runtime';
import { type WebBackendOptions, createWebBackend } from '../../src/index.js';
import {
  type WireError,
  type WireModel,
  type WireSessionOptions,
  type WireTensor,
  base64ToBytes,
  decodeCpuTensor,
  encodeCpuTensor,
  encodeError,
} from './wire.js';

type Outcome<T> = { ok: true; value: T } | { ok: false; error: WireError };

const sessions = new Map<number, InferenceSession>();
const deviceTensors = new Map<number, DeviceTensor>();
const runControllers = new Map<number, AbortController>();
let nextId = 1;
let backend = createWebBackend();

async function attempt<T>(work: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error: encodeError(error) };
  }
}

function encodeOutput(value: RuntimeTensor): WireTensor {
  if (DeviceTensor.isInstance(value)) {
    const id = nextId++;
    deviceTensors.set(id, value);
    return {
      kind: 'device',
      id,
      dtype: value.dtype,
      dims: [...value.dims],
      device: value.device,
      backend: value.backend,
    };
  }
  return encodeCpuTensor(value);
}

function decodeFeed(wire: WireTensor): RuntimeTensor {
  if (wire.kind === 'cpu') return decodeCpuTensor(wire);
  const tensor = deviceTensors.get(wire.id);
  if (tensor === undefined) throw new Error(`no device tensor ${wire.id} in the page`);
  return tensor;
}

function decodeModel(wire: WireModel): ModelFile {
  if (wire.kind === 'location') return wire.value;
  const bytes = base64ToBytes(wire.base64);
  return wire.kind === 'bytes' ? bytes : (bytes.buffer as ArrayBuffer);
}

const harness = {
  /** Replaces the backend (e.g. to set WebAssembly threads before the first session). */
  init(options: WebBackendOptions): { crossOriginIsolated: boolean; webgpu: boolean } {
    backend = createWebBackend(options);
    return { crossOriginIsolated: globalThis.crossOriginIsolated === true, webgpu: 'gpu' in navigator };
  },
  capabilities() {
    return { name: backend.name, capabilities: backend.capabilities };
  },
  createSession(model: WireModel, wireOptions: WireSessionOptions) {
    const progress: ProgressEvent[] = [];
    return attempt(async () => {
      const { aborted, externalData, ...rest } = wireOptions;
      const options: SessionOptions = { ...(rest as SessionOptions), onProgress: (event) => progress.push(event) };
      if (externalData !== undefined) {
        options.externalData = externalData.map((entry) =>
          typeof entry === 'string'
            ? entry
            : {
                path: entry.path,
                ...(entry.data === undefined
                  ? {}
                  : { data: typeof entry.data === 'string' ? entry.data : base64ToBytes(entry.data.base64) }),
              },
        );
      }
      if (aborted) {
        const controller = new AbortController();
        controller.abort();
        options.signal = controller.signal;
      }
      const session = await backend.createSession(decodeModel(model), options);
      const id = nextId++;
      sessions.set(id, session);
      return {
        id,
        progress,
        inputMetadata: session.inputMetadata,
        outputMetadata: session.outputMetadata,
        executionProvider: session.executionProvider,
        outputLocations: session.outputLocations,
      };
    }).then((outcome) => ({ outcome, progress }));
  },
  run(request: {
    sessionId: number;
    runId: number;
    feeds: Record<string, WireTensor>;
    outputs?: string[];
    /** CPU tensors for RunOptions.outputBuffers (copies of the caller's: the test side copies the results back). */
    outputBuffers?: Record<string, WireTensor & { kind: 'cpu' }>;
    abort: 'none' | 'before' | 'during';
  }) {
    return attempt(async () => {
      const session = sessions.get(request.sessionId)!;
      const feeds: Record<string, RuntimeTensor> = {};
      for (const [name, wire] of Object.entries(request.feeds)) feeds[name] = decodeFeed(wire);
      const controller = new AbortController();
      runControllers.set(request.runId, controller);
      if (request.abort === 'before') controller.abort(new Error('aborted by the test'));
      try {
        const pending = session.run(feeds, {
          signal: controller.signal,
          ...(request.outputs === undefined ? {} : { outputs: request.outputs }),
          ...(request.outputBuffers === undefined
            ? {}
            : {
                outputBuffers: Object.fromEntries(
                  Object.entries(request.outputBuffers).map(([name, wire]) => [name, decodeCpuTensor(wire)]),
                ),
              }),
        });
        if (request.abort === 'during') controller.abort(new Error('aborted by the test'));
        const outputs = await pending;
        const wire: Record<string, WireTensor> = {};
        for (const [name, value] of Object.entries(outputs)) wire[name] = encodeOutput(value);
        return wire;
      } finally {
        runControllers.delete(request.runId);
      }
    });
  },
  abortRun(runId: number): void {
    runControllers.get(runId)?.abort(new Error('aborted by the test'));
  },
  release(sessionId: number) {
    return attempt(() => sessions.get(sessionId)!.release());
  },
  download(id: number) {
    return attempt(async () => {
      const tensor = deviceTensors.get(id);
      if (tensor === undefined) throw new Error(`no device tensor ${id} in the page`);
      const cpu = await tensor.download();
      if (!isCpuTensor(cpu)) throw new Error('download did not give a CPU tensor');
      return encodeCpuTensor(cpu);
    });
  },
  dispose(id: number): void {
    deviceTensors.get(id)?.dispose();
  },
  /** onnxruntime-web's WebAssembly thread count once initialized (it falls back to 1 outside a cross-origin isolated page). */
  async wasmThreads(): Promise<number | undefined> {
    const ort = await import('onnxruntime-web');
    return ort.env.wasm.numThreads;
  },
  async cacheKeys(name: string): Promise<string[]> {
    if (typeof caches === 'undefined') return [];
    const cache = await caches.open(name);
    return (await cache.keys()).map((request) => request.url);
  },
};

/** The harness the tests drive. */
export type RuntimeHarness = typeof harness;

(globalThis as { __runtimeHarness?: RuntimeHarness }).__runtimeHarness = harness;

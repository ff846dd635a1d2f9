import type { Tensor } from '@video-llava/core';
import {
  type Backend,
  type BackendCapabilities,
  DeviceTensor,
  type InferenceSession,
  type ModelFile,
  type OutputLocation,
  type RunOptions,
  type RuntimeTensor,
  type SessionFeeds,
  type SessionOptions,
  type SessionOutputs,
  type ValueMetadata,
  isCpuTensor,
} from '@video-llava/runtime';
import type { Page } from 'playwright-core';
import type { RuntimeHarness } from './harness.js';
import {
  type WireError,
  type WireModel,
  type WireSessionOptions,
  type WireTensor,
  bytesToBase64,
  decodeCpuTensor,
  decodeError,
  encodeCpuTensor,
} from './wire.js';

type Outcome<T> = { ok: true; value: T } | { ok: false; error: WireError };
type Harness = { __runtimeHarness: RuntimeHarness };

function unwrap<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw decodeError(outcome.error);
  return outcome.value;
}

function encodeModel(model: ModelFile): WireModel {
  if (model instanceof Uint8Array) return { kind: 'bytes', base64: bytesToBase64(model) };
  if (model instanceof ArrayBuffer) return { kind: 'buffer', base64: bytesToBase64(new Uint8Array(model)) };
  return { kind: 'location', value: model.toString() };
}

function encodeOptions(options: SessionOptions): WireSessionOptions {
  const { signal, onProgress, externalData, ...rest } = options;
  const wire: WireSessionOptions = { ...(rest as WireSessionOptions), aborted: signal?.aborted ?? false };
  if (externalData !== undefined) {
    wire.externalData = externalData.map((entry) => {
      if (typeof entry === 'string') return entry;
      const { data } = entry;
      if (data === undefined) return { path: entry.path };
      if (data instanceof Uint8Array) return { path: entry.path, data: { base64: bytesToBase64(data) } };
      if (data instanceof ArrayBuffer)
        return { path: entry.path, data: { base64: bytesToBase64(new Uint8Array(data)) } };
      return { path: entry.path, data: data.toString() };
    });
  }
  return wire;
}

/**
 * A {@link Backend} whose sessions live in a Chromium page: every call is forwarded to runtime-web running there
 * (validation, abort, device tensors and errors included), so the conformance suite in Node.js tests the browser.
 */
export function createRemoteBackend(page: Page, name: string, capabilities: BackendCapabilities): Backend {
  const remoteIds = new WeakMap<DeviceTensor, number>();
  let nextRunId = 1;
  /** Disposals are sent before the next call, in order. */
  let disposals: Promise<unknown> = Promise.resolve();

  const toTensor = (wire: WireTensor): RuntimeTensor => {
    if (wire.kind === 'cpu') return decodeCpuTensor(wire);
    const tensor = new DeviceTensor({
      dtype: wire.dtype,
      dims: wire.dims,
      device: wire.device,
      backend: wire.backend,
      handle: { remoteId: wire.id },
      download: async () =>
        decodeCpuTensor(
          unwrap(
            await page.evaluate((id) => (window as unknown as Harness).__runtimeHarness.download(id), wire.id),
          ) as WireTensor & { kind: 'cpu' },
        ),
      dispose: () => {
        disposals = disposals
          .then(() => page.evaluate((id) => (window as unknown as Harness).__runtimeHarness.dispose(id), wire.id))
          .catch(() => undefined);
      },
    });
    remoteIds.set(tensor, wire.id);
    return tensor;
  };

  const toWire = (value: RuntimeTensor): WireTensor => {
    if (DeviceTensor.isInstance(value)) {
      return {
        kind: 'device',
        id: remoteIds.get(value) ?? -1,
        dtype: value.dtype,
        dims: [...value.dims],
        device: value.device,
        backend: value.backend,
      };
    }
    if (!isCpuTensor(value)) throw new Error('the remote backend forwards only tensors');
    return encodeCpuTensor(value as Tensor);
  };

  const createSession = async (model: ModelFile, options: SessionOptions = {}): Promise<InferenceSession> => {
    await disposals;
    const { outcome, progress } = await page.evaluate(
      ([wireModel, wireOptions]) =>
        (window as unknown as Harness).__runtimeHarness.createSession(wireModel, wireOptions),
      [encodeModel(model), encodeOptions(options)] as const,
    );
    for (const event of progress) options.onProgress?.(event);
    const info = unwrap(
      outcome as Outcome<{
        id: number;
        inputMetadata: ValueMetadata[];
        outputMetadata: ValueMetadata[];
        executionProvider: string;
        outputLocations: Record<string, OutputLocation>;
      }>,
    );
    let released = false;
    const session: InferenceSession = {
      inputNames: info.inputMetadata.map((value) => value.name),
      outputNames: info.outputMetadata.map((value) => value.name),
      inputMetadata: info.inputMetadata,
      outputMetadata: info.outputMetadata,
      executionProvider: info.executionProvider,
      outputLocations: info.outputLocations,
      get released() {
        return released;
      },
      run(feeds: SessionFeeds, runOptions: RunOptions = {}): Promise<SessionOutputs> {
        const { signal } = runOptions;
        const abortedAtCall = signal?.aborted ?? false;
        const wireFeeds: Record<string, WireTensor> = {};
        for (const [input, value] of Object.entries(feeds)) wireFeeds[input] = toWire(value);
        const runId = nextRunId++;
        return (async () => {
          // A caller that aborts right after calling run() does so before the request leaves: the page then aborts
          // its run right after starting it, which is what "aborted while in flight" means there.
          await disposals;
          const abort = abortedAtCall ? 'before' : signal?.aborted ? 'during' : 'none';
          const onAbort = (): void =>
            void page
              .evaluate((id) => (window as unknown as Harness).__runtimeHarness.abortRun(id), runId)
              .catch(() => undefined);
          signal?.addEventListener('abort', onAbort, { once: true });
          try {
            const request = {
              sessionId: info.id,
              runId,
              feeds: wireFeeds,
              abort,
              ...(runOptions.outputs === undefined ? {} : { outputs: [...runOptions.outputs] }),
              ...(runOptions.outputBuffers === undefined
                ? {}
                : {
                    outputBuffers: Object.fromEntries(
                      Object.entries(runOptions.outputBuffers).map(([name, tensor]) => [
                        name,
                        encodeCpuTensor(tensor) as WireTensor & { kind: 'cpu' },
                      ]),
                    ),
                  }),
            } as const;
            const outputs = unwrap(
              await page.evaluate((wire) => (window as unknown as Harness).__runtimeHarness.run(wire), request),
            );
            const result: SessionOutputs = {};
            for (const [output, wire] of Object.entries(outputs)) result[output] = toTensor(wire);
            // The page wrote copies of the buffers: the caller's own tensors get the results, and are returned.
            for (const [output, buffer] of Object.entries(runOptions.outputBuffers ?? {})) {
              buffer.data.set((result[output] as Tensor).data as never);
              result[output] = buffer;
            }
            return result;
          } finally {
            signal?.removeEventListener('abort', onAbort);
          }
        })();
      },
      async release() {
        released = true;
        await disposals;
        unwrap(await page.evaluate((id) => (window as unknown as Harness).__runtimeHarness.release(id), info.id));
      },
    };
    return session;
  };

  return { name, capabilities, createSession };
}

import { describe, expect, it } from 'vitest';
import type { OnnxruntimeModule, OrtSessionOptions } from './onnxruntime-api.js';
import { probeExecutionProvider } from './probe-execution-provider.js';

/** An onnxruntime module whose sessions load with the providers named `available` only. */
function fakeOnnxruntime(available: readonly string[]) {
  const probes: OrtSessionOptions[] = [];
  let released = 0;
  const ort = {
    Tensor: class {} as never,
    InferenceSession: {
      async create(_model: Uint8Array, options: OrtSessionOptions) {
        probes.push(options);
        const provider = options.executionProviders[0]!;
        const name = typeof provider === 'string' ? provider : provider.name;
        if (!available.includes(name)) throw new Error(`no ${name} here`);
        return {
          release: async () => {
            released++;
          },
        } as never;
      },
    },
  } satisfies OnnxruntimeModule;
  return { ort, probes, released: () => released };
}

describe('probeExecutionProvider', () => {
  it('loads the probe model with the provider alone, releases it, and asks once per provider and options', async () => {
    const { ort, probes, released } = fakeOnnxruntime(['webgpu']);
    const cache = new Map<string, Promise<string | undefined>>();
    expect(await probeExecutionProvider(ort, 'webgpu', cache)).toBeUndefined();
    expect(await probeExecutionProvider(ort, 'webgpu', cache)).toBeUndefined();
    expect(await probeExecutionProvider(ort, 'webnn', cache)).toBe('no webnn here');
    expect(await probeExecutionProvider(ort, { name: 'webnn', deviceType: 'gpu' }, cache)).toBe('no webnn here');
    expect(probes).toEqual([
      { executionProviders: ['webgpu'], logSeverityLevel: 3 },
      { executionProviders: ['webnn'], logSeverityLevel: 3 },
      { executionProviders: [{ name: 'webnn', deviceType: 'gpu' }], logSeverityLevel: 3 },
    ]);
    expect(released()).toBe(1);
  });
});

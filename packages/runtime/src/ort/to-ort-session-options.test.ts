import { describe, expect, it } from 'vitest';
import { toOrtSessionOptions } from './to-ort-session-options.js';

describe('toOrtSessionOptions', () => {
  it('asks for one provider, quiet logs and full optimization by default', () => {
    expect(toOrtSessionOptions('cpu', {}, [])).toEqual({
      executionProviders: ['cpu'],
      logSeverityLevel: 3,
      graphOptimizationLevel: 'all',
    });
  });

  it('passes the optimization level, free dimensions and external data files given', () => {
    const externalData = [{ path: 'model.onnx_data', data: new Uint8Array(4) }];
    const options = toOrtSessionOptions(
      { name: 'cuda', deviceId: 1 },
      { graphOptimizationLevel: 'basic', freeDimensionOverrides: { batch: 1 }, threads: 2 },
      externalData,
    );
    expect(options).toEqual({
      executionProviders: [{ name: 'cuda', deviceId: 1 }],
      logSeverityLevel: 3,
      graphOptimizationLevel: 'basic',
      freeDimensionOverrides: { batch: 1 },
      externalData,
    });
  });

  it('keeps device outputs as GPU buffers under WebGPU only', () => {
    expect(toOrtSessionOptions('webgpu', { outputLocation: 'device' }, []).preferredOutputLocation).toBe('gpu-buffer');
    expect(
      toOrtSessionOptions({ name: 'webgpu' }, { outputLocation: { present: 'device', logits: 'cpu' } }, [])
        .preferredOutputLocation,
    ).toEqual({ present: 'gpu-buffer', logits: 'cpu' });
    expect(toOrtSessionOptions('cuda', { outputLocation: 'device' }, [])).not.toHaveProperty('preferredOutputLocation');
  });
});

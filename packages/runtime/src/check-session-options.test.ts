import { VideoLlavaError } from '@video-llava/core';
import { describe, expect, it } from 'vitest';
import type { BackendCapabilities, SessionOptions } from './backend.js';
import { checkSessionOptions, executionProviderName, resolveOutputLocations } from './check-session-options.js';

const capabilities: BackendCapabilities = {
  executionProviders: ['cpu', 'cuda'],
  defaultExecutionProviders: ['cuda', 'cpu'],
  filePaths: true,
  urls: true,
  deviceOutputs: false,
  memoryMapping: true,
  cache: false,
};

function failure(work: () => unknown): VideoLlavaError {
  try {
    work();
  } catch (error) {
    if (VideoLlavaError.isInstance(error)) return error;
    throw error;
  }
  return expect.fail('expected a VideoLlavaError');
}

describe('checkSessionOptions', () => {
  it('returns the providers to try: the defaults, or those asked for', () => {
    expect(checkSessionOptions({}, capabilities)).toEqual(['cuda', 'cpu']);
    expect(checkSessionOptions({ executionProviders: [{ name: 'cuda', deviceId: 1 }, 'cpu'] }, capabilities)).toEqual([
      { name: 'cuda', deviceId: 1 },
      'cpu',
    ]);
  });

  it('accepts every valid option together', () => {
    const options: SessionOptions = {
      threads: 2,
      graphOptimizationLevel: 'basic',
      outputLocation: { logits: 'cpu', present: 'device' },
    };
    expect(checkSessionOptions(options, capabilities)).toEqual(['cuda', 'cpu']);
  });

  it('names the option and the index of a bad execution provider', () => {
    const empty = failure(() => checkSessionOptions({ executionProviders: [] }, capabilities));
    expect(empty.field).toBe('options.executionProviders');
    const unknown = failure(() => checkSessionOptions({ executionProviders: ['cpu', 'webgpu'] }, capabilities));
    expect(unknown.code).toBe('INVALID_ARGUMENT');
    expect(unknown.field).toBe('options.executionProviders[1]');
    expect(unknown.expected).toEqual(['cpu', 'cuda']);
    expect(unknown.actual).toBe('webgpu');
    expect(unknown.message).toContain('this backend knows cpu, cuda');
    const nameless = failure(() =>
      checkSessionOptions({ executionProviders: [{ deviceId: 0 } as never] }, capabilities),
    );
    expect(nameless.field).toBe('options.executionProviders[0]');
  });

  it('refuses a thread count that is not a positive integer', () => {
    for (const threads of [0, -1, 1.5, Number.NaN]) {
      const error = failure(() => checkSessionOptions({ threads }, capabilities));
      expect(error.field).toBe('options.threads');
    }
  });

  it('refuses an unknown graph optimization level', () => {
    const error = failure(() => checkSessionOptions({ graphOptimizationLevel: 'most' as never }, capabilities));
    expect(error.field).toBe('options.graphOptimizationLevel');
    expect(error.expected).toEqual(['disabled', 'basic', 'extended', 'all']);
  });

  it('refuses output locations other than cpu and device, naming the output', () => {
    expect(failure(() => checkSessionOptions({ outputLocation: 'gpu' as never }, capabilities)).field).toBe(
      'options.outputLocation',
    );
    expect(
      failure(() => checkSessionOptions({ outputLocation: { present: 'gpu-buffer' as never } }, capabilities)).field,
    ).toBe('options.outputLocation.present');
  });
});

describe('resolveOutputLocations', () => {
  it('puts every output on the CPU by default, or where one location or a per-output record says', () => {
    expect(resolveOutputLocations(undefined, ['logits', 'present'], 'decoder.onnx')).toEqual({
      logits: 'cpu',
      present: 'cpu',
    });
    expect(resolveOutputLocations('device', ['logits', 'present'], 'decoder.onnx')).toEqual({
      logits: 'device',
      present: 'device',
    });
    expect(resolveOutputLocations({ present: 'device' }, ['logits', 'present'], 'decoder.onnx')).toEqual({
      logits: 'cpu',
      present: 'device',
    });
  });

  it('refuses a record that names an output the model lacks', () => {
    const error = failure(() => resolveOutputLocations({ past: 'device' }, ['logits', 'present'], 'decoder.onnx'));
    expect(error.field).toBe('options.outputLocation.past');
    expect(error.expected).toEqual(['logits', 'present']);
    expect(error.message).toContain('not an output of decoder.onnx');
  });
});

describe('executionProviderName', () => {
  it('reads a name or the name of a provider with options', () => {
    expect(executionProviderName('webgpu')).toBe('webgpu');
    expect(executionProviderName({ name: 'cuda', deviceId: 1 })).toBe('cuda');
  });
});

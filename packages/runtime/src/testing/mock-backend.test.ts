import { Tensor, VideoLlavaError } from '@video-llava/core';
import { describe, expect, it } from 'vitest';
import { DeviceTensor } from '../device-tensor.js';
import { expectRejection } from './expect-rejection.js';
import { type MockModel, createMockBackend } from './mock-backend.js';

const decoder: MockModel = {
  inputs: [
    { name: 'input_ids', dtype: 'int64', shape: ['batch', 'sequence'] },
    { name: 'past', dtype: 'float32', shape: ['batch', 'past_sequence'] },
  ],
  outputs: [
    { name: 'logits', dtype: 'float32', shape: ['batch', 'sequence', 4] },
    { name: 'present', dtype: 'float32', shape: ['batch', 'total_sequence'] },
  ],
  run: (feeds, context) => {
    const [batch, sequence] = feeds.input_ids!.dims as [number, number];
    const past = feeds.past!;
    return {
      logits: new Tensor('float32', new Float32Array(batch * sequence * 4).fill(context.runIndex), [
        batch,
        sequence,
        4,
      ]),
      present: new Tensor(
        'float32',
        Float32Array.from([
          ...(past.data as Float32Array),
          ...Array.from({ length: batch * sequence }, () => context.runIndex),
        ]),
        [batch, past.dims[1]! + sequence],
      ),
    };
  },
};

const ids = (count: number): Tensor<'int64'> => new Tensor('int64', new BigInt64Array(count), [1, count]);

describe('createMockBackend', () => {
  it('runs a scripted decoder loop with its KV cache on the "device", and records it', async () => {
    const backend = createMockBackend({ models: { 'decoder.onnx': decoder } });
    const session = await backend.createSession('decoder.onnx', { outputLocation: { present: 'device' } });
    expect(session.executionProvider).toBe('cpu');
    let past: Tensor | DeviceTensor = Tensor.zeros('float32', [1, 0]);
    for (let step = 0; step < 3; step++) {
      const outputs = await session.run({ input_ids: ids(step === 0 ? 2 : 1), past });
      expect((outputs.logits as Tensor).data[0]).toBe(step);
      expect(DeviceTensor.isInstance(outputs.present)).toBe(true);
      if (DeviceTensor.isInstance(past)) past.dispose();
      past = outputs.present as DeviceTensor;
    }
    expect(backend.liveDeviceTensors).toBe(1);
    expect([...(await (past as DeviceTensor).download()).data]).toEqual([0, 0, 1, 2]);
    (past as DeviceTensor).dispose();
    expect(backend.liveDeviceTensors).toBe(0);
    expect(backend.runs.map((run) => run.feeds.past!.dims)).toEqual([
      [1, 0],
      [1, 2],
      [1, 3],
    ]);
    expect(backend.runs[0]!.outputs).toEqual(['logits', 'present']);
    expect(backend.sessions).toHaveLength(1);
    expect(backend.sessions[0]!.options.outputLocation).toEqual({ present: 'device' });
  });

  it('reports the first execution provider asked for, and refuses unknown ones', async () => {
    const backend = createMockBackend({
      models: { 'decoder.onnx': decoder },
      name: 'scripted',
      executionProviders: ['cpu', 'webgpu'],
    });
    expect(backend.name).toBe('scripted');
    expect(backend.capabilities.defaultExecutionProviders).toEqual(['cpu']);
    expect(
      (await backend.createSession('decoder.onnx', { executionProviders: ['webgpu', 'cpu'] })).executionProvider,
    ).toBe('webgpu');
    expect((await expectRejection(backend.createSession('decoder.onnx', { executionProviders: ['cuda'] }))).field).toBe(
      'options.executionProviders[0]',
    );
  });

  it('FILE_NOT_FOUND for a model it does not know, listing those it does', async () => {
    const backend = createMockBackend({ models: { 'decoder.onnx': decoder } });
    const error = await expectRejection(backend.createSession('encoder.onnx'));
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.file).toBe('encoder.onnx');
    expect(error.expected).toEqual(['decoder.onnx']);
    expect((await expectRejection(backend.createSession(new Uint8Array(4)))).code).toBe('FILE_NOT_FOUND');
  });

  it('picks models with a function, which gets the options and may throw to script a failed load', async () => {
    const seen: unknown[] = [];
    const backend = createMockBackend({
      models: (model, options) => {
        seen.push(options.threads);
        if (model instanceof Uint8Array && model.length === 0) throw new VideoLlavaError('INVALID_FILE', 'empty');
        return model instanceof Uint8Array ? decoder : undefined;
      },
    });
    await backend.createSession(new Uint8Array(3), { threads: 2 });
    expect(seen).toEqual([2]);
    expect((await expectRejection(backend.createSession(new Uint8Array(0)))).code).toBe('INVALID_FILE');
    expect((await expectRejection(backend.createSession('x.onnx'))).code).toBe('FILE_NOT_FOUND');
  });

  it('turns a script that returns the wrong output into a RUNTIME_ERROR that names it', async () => {
    const backend = createMockBackend({
      models: {
        'bad.onnx': {
          ...decoder,
          run: () => ({ logits: Tensor.zeros('float32', [1, 1, 5]), present: Tensor.zeros('float32', [1, 1]) }),
        },
        'missing.onnx': { ...decoder, run: () => ({ present: Tensor.zeros('float32', [1, 1]) }) },
      },
    });
    const feeds = { input_ids: ids(1), past: Tensor.zeros('float32', [1, 0]) };
    const wrongShape = await expectRejection((await backend.createSession('bad.onnx')).run(feeds));
    expect(wrongShape.code).toBe('RUNTIME_ERROR');
    expect(wrongShape.message).toContain('float32[1,1,5] for output "logits"; expected float32[batch, sequence, 4]');
    const missing = await expectRejection((await backend.createSession('missing.onnx')).run(feeds));
    expect(missing.message).toContain('returned undefined for output "logits"');
  });

  it('checks feeds and output locations like a real backend', async () => {
    const backend = createMockBackend({ models: { 'decoder.onnx': decoder } });
    expect(
      (await expectRejection(backend.createSession('decoder.onnx', { outputLocation: { cache: 'device' } }))).field,
    ).toBe('options.outputLocation.cache');
    const session = await backend.createSession('decoder.onnx');
    const error = await expectRejection(session.run({ input_ids: ids(1) }));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.field).toBe('feeds.past');
    expect(backend.runs).toHaveLength(0);
  });
});

import { describe, expect, it } from 'vitest';
import { createProgressDisplay } from './progress-display.js';
import { createTestIo } from './test-io.js';

const events = [
  { stage: 'download', file: 'onnx/decoder.onnx', done: 0, total: 1000, unit: 'bytes' },
  { stage: 'download', file: 'onnx/decoder.onnx', done: 550, total: 1000, unit: 'bytes' },
  { stage: 'download', file: 'onnx/decoder.onnx', done: 1000, total: 1000, unit: 'bytes' },
  { stage: 'load', file: 'onnx/decoder.onnx', done: 0, total: 1, unit: 'items' },
  { stage: 'load', file: 'onnx/decoder.onnx', done: 1, total: 1, unit: 'items' },
  { stage: 'decode-video', file: 'clip\u001b[31m.mp4', done: 1, total: 1, unit: 'items' },
  { stage: 'prefill', done: 0, total: 2074, unit: 'tokens' },
  { stage: 'prefill', done: 2074, total: 2074, unit: 'tokens' },
  { stage: 'decode', done: 1, total: 10, unit: 'tokens' },
] as const;

describe('createProgressDisplay', () => {
  it('writes plain lines, without control characters, when stderr is not a terminal', () => {
    const io = createTestIo();
    const display = createProgressDisplay(io.stderr, { terminal: false });
    for (const event of events) display.update(event);
    display.finish();
    expect(io.err()).toBe(
      [
        '[download] onnx/decoder.onnx 0% of 1000 B',
        '[download] onnx/decoder.onnx 50% of 1000 B',
        '[download] onnx/decoder.onnx 100% of 1000 B',
        '[load] onnx/decoder.onnx',
        '[decode-video] clip?[31m.mp4',
        '[prefill] 2074 tokens',
        '',
      ].join('\n'),
    );
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for control characters
    expect(io.err()).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
  });

  it('redraws one bar per stage in place on a terminal, and ends it when it completes', () => {
    const io = createTestIo();
    const display = createProgressDisplay(io.stderr, { terminal: true });
    for (const event of events.slice(0, 3)) display.update(event);
    const lines = io.err().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]!.split('\r').filter(Boolean)).toEqual([
      '[download] onnx/decoder.onnx [------------------------]   0% 0 B / 1000 B\u001b[K',
      '[download] onnx/decoder.onnx [#############-----------]  55% 550 B / 1000 B\u001b[K',
      '[download] onnx/decoder.onnx [########################] 100% 1000 B / 1000 B\u001b[K',
    ]);
    expect(lines[1]).toBe('');
  });
});

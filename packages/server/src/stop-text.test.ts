import { describe, expect, it } from 'vitest';
import { StopTextFilter, cutAtStop } from './stop-text.js';

describe('cutAtStop', () => {
  it('cuts before the earliest stop string of any', () => {
    expect(cutAtStop('one two three', [' three', ' two'])).toEqual({ text: 'one', stopped: true });
    expect(cutAtStop('one two', ['four'])).toEqual({ text: 'one two', stopped: false });
    expect(cutAtStop('stop', ['stop'])).toEqual({ text: '', stopped: true });
  });
});

describe('StopTextFilter', () => {
  // Every way of splitting the text into deltas gives the same output as cutting the whole text.
  it.each([
    ['hello world, bye', ['world']],
    ['abababc', ['abc']],
    ['no stop here', ['xyz', 'q']],
    ['ends with a partial sto', ['stop']],
    ['two stops: b then a', ['a', 'b']],
    ['日本語のテキスト', ['テキ']],
  ])('%j with %j: streamed output equals the whole text cut', (text, stops) => {
    const expected = cutAtStop(text, stops);
    for (let size = 1; size <= text.length; size++) {
      const filter = new StopTextFilter(stops);
      let out = '';
      for (let at = 0; at < text.length; at += size) out += filter.push(text.slice(at, at + size));
      out += filter.flush();
      expect(out, `deltas of ${size}`).toBe(expected.text);
      expect(filter.stopped).toBe(expected.stopped);
    }
  });

  it('holds back only what a stop string could start with, and drops everything after a stop', () => {
    const filter = new StopTextFilter(['STOP']);
    expect(filter.push('go ST')).toBe('go ');
    expect(filter.push('AY')).toBe('STAY');
    expect(filter.push(' STO')).toBe(' ');
    expect(filter.push('P and more')).toBe('');
    expect(filter.push('ignored')).toBe('');
    expect(filter.flush()).toBe('');
  });
});

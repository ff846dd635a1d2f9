import { describe, expect, it } from 'vitest';
import { byteOfToken, createTokenDecoder } from './token-decoder.js';

const fallback = (tokens: string[]) => `fallback:${tokens.join('|')}`;

describe('createTokenDecoder (ports of the Rust decoders)', () => {
  it('runs the LLaMA chain: Replace, ByteFallback, Fuse, Strip one leading space', () => {
    const decoder = createTokenDecoder(
      {
        type: 'Sequence',
        decoders: [
          { type: 'Replace', pattern: { String: '\u2581' }, content: ' ' },
          { type: 'ByteFallback' },
          { type: 'Fuse' },
          { type: 'Strip', content: ' ', start: 1, stop: 0 },
        ],
      },
      fallback,
    );
    expect(decoder.byteFallback).toBe(true);
    expect(decoder.decode(['\u2581\u2581a', '<0xE6>', '<0x97>', '<0xA5>', '\u2581b'])).toBe(' a\u65E5 b');
    expect(decoder.decode(['<0xE6>', '<0x97>', 'x'])).toBe('\uFFFD\uFFFDx');
    expect(decoder.decode([])).toBe('');
  });

  it('Metaspace drops the replacement characters of the first token only when it prepends', () => {
    expect(
      createTokenDecoder({ type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always' }, fallback).decode([
        '\u2581a\u2581b',
        '\u2581c',
      ]),
    ).toBe('ab c');
    expect(
      createTokenDecoder({ type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'never' }, fallback).decode([
        '\u2581a',
        '\u2581c',
      ]),
    ).toBe(' a c');
  });

  it('Strip removes at most start / stop characters', () => {
    const strip = createTokenDecoder({ type: 'Strip', content: ' ', start: 2, stop: 1 }, fallback);
    expect(strip.decode(['   a  '])).toBe(' a ');
  });

  it('Replace with a regex; unknown decoders go to the fallback; no decoder joins with spaces', () => {
    expect(
      createTokenDecoder({ type: 'Replace', pattern: { Regex: '\\s+' }, content: '_' }, fallback).decode(['a  b']),
    ).toBe('a_b');
    expect(createTokenDecoder({ type: 'WordPiece', prefix: '##' }, fallback).decode(['a', 'b'])).toBe('fallback:a|b');
    expect(createTokenDecoder(null, fallback).decode(['a', 'b'])).toBe('a b');
  });

  it('byteOfToken reads <0xHH> only', () => {
    expect(byteOfToken('<0x0A>')).toBe(10);
    expect(byteOfToken('<0xff>')).toBe(255);
    expect(byteOfToken('<0xZZ>')).toBeUndefined();
    expect(byteOfToken('<0x0A')).toBeUndefined();
  });
});

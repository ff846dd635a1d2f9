import { fixtureCases, tinyFixture } from '@video-llava/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from './node.js';
import type { Tokenizer } from './tokenizer.js';

interface TokenizerReference {
  text: string;
  ids: number[];
  tokens: string[];
  decoded: string;
  decoded_skip_special: string;
}

const references = tinyFixture.json<TokenizerReference[]>('tokenizer_public.json');

function hasLoneSurrogate(text: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

let tokenizer: Tokenizer;
beforeAll(async () => {
  tokenizer = await loadTokenizer(tinyFixture.model);
});

describe('TokenStreamDecoder', () => {
  it.each(references.map((reference) => [JSON.stringify(reference.text), reference] as const))(
    'streams %s to the reference decode, one id at a time',
    (_, reference) => {
      for (const [skipSpecialTokens, expected] of [
        [true, reference.decoded_skip_special],
        [false, reference.decoded],
      ] as const) {
        const stream = tokenizer.createStreamDecoder({ skipSpecialTokens });
        const chunks = reference.ids.map((id) => stream.push(id));
        chunks.push(stream.flush());
        expect(chunks.join('')).toBe(expected);
        for (const chunk of chunks) {
          // Never half a character: no replacement character and no lone surrogate in a chunk of valid text.
          expect(chunk).not.toContain('\uFFFD');
          expect(hasLoneSurrogate(chunk)).toBe(false);
        }
      }
    },
  );

  it('holds byte-fallback tokens until the character is complete', () => {
    const emoji = references.find((reference) => reference.tokens.includes('<0xF0>'))!;
    const first = emoji.tokens.indexOf('<0xF0>');
    const stream = tokenizer.createStreamDecoder({ skipSpecialTokens: true });
    stream.push(emoji.ids.slice(0, first));
    expect(stream.push(emoji.ids[first]!)).toBe('');
    expect(stream.push(emoji.ids[first + 1]!)).toBe('');
    expect(stream.push(emoji.ids[first + 2]!)).toBe('');
    const character = stream.push(emoji.ids[first + 3]!);
    expect(character).toBe(tokenizer.decode(emoji.ids.slice(first, first + 4)));
    expect([...character]).toHaveLength(1);
  });

  it('flushes an unfinished character as one U+FFFD per byte, then starts over', () => {
    const emoji = references.find((reference) => reference.tokens.includes('<0xF0>'))!;
    const first = emoji.tokens.indexOf('<0xF0>');
    const stream = tokenizer.createStreamDecoder();
    expect(stream.push(emoji.ids.slice(first, first + 2))).toBe('');
    expect(stream.flush()).toBe('\uFFFD\uFFFD');
    const hello = references.find((reference) => reference.text === 'Hello world')!;
    expect(stream.push(hello.ids) + stream.flush()).toBe(hello.decoded);
  });

  it('drops the leading space of the first generated token only, like TextStreamer on the new tokens', () => {
    const hello = references.find((reference) => reference.text === 'Hello world')!;
    const stream = tokenizer.createStreamDecoder({ skipSpecialTokens: true });
    const chunks = hello.ids.map((id) => stream.push(id));
    expect(chunks.filter((chunk) => chunk !== '')).toEqual(['Hello', ' world']);
  });

  it('streams the greedy answers of refs/cases.json to their batch_decode', () => {
    for (const fixtureCase of fixtureCases()) {
      fixtureCase.generated.forEach((generated, row) => {
        const stream = tokenizer.createStreamDecoder({ skipSpecialTokens: true });
        const text = generated.map((id) => stream.push(id)).join('') + stream.flush();
        expect(text, `${fixtureCase.name}[${row}]`).toBe(tokenizer.decode(generated, { skipSpecialTokens: true }));
        expect(fixtureCase.decoded[row]!.endsWith(text)).toBe(true);
      });
    }
  });
});

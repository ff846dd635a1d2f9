import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tinyFixture } from '@video-llava/test-utils';
import { describe, expect, it } from 'vitest';
import { createMetaspacePreTokenizer } from './metaspace-pre-tokenizer.js';
import { Tokenizer } from './tokenizer.js';

describe('createMetaspacePreTokenizer (the Rust Metaspace)', () => {
  it('replaces spaces, prepends by scheme, and splits before each "▁" when split is on', () => {
    const split = createMetaspacePreTokenizer({
      type: 'Metaspace',
      replacement: '\u2581',
      prepend_scheme: 'always',
      split: true,
    });
    expect(split('a  b c')).toEqual(['\u2581a', '\u2581', '\u2581b', '\u2581c']);
    expect(split(' x')).toEqual(['\u2581x']);
    const whole = createMetaspacePreTokenizer({
      type: 'Metaspace',
      replacement: '\u2581',
      prepend_scheme: 'always',
      split: false,
    });
    expect(whole('a  b')).toEqual(['\u2581a\u2581\u2581b']);
    const first = createMetaspacePreTokenizer({
      type: 'Metaspace',
      replacement: '\u2581',
      prepend_scheme: 'first',
      split: false,
    });
    expect(first('a', { section_index: 0 })).toEqual(['\u2581a']);
    expect(first('a', { section_index: 2 })).toEqual(['a']);
    const never = createMetaspacePreTokenizer({
      type: 'Metaspace',
      replacement: '\u2581',
      prepend_scheme: 'never',
      split: false,
    });
    expect(never('a b')).toEqual(['a\u2581b']);
  });

  it('reads the pre-0.19 add_prefix_space form and splits by default, as Rust does', () => {
    const old = createMetaspacePreTokenizer({ type: 'Metaspace', replacement: '\u2581', add_prefix_space: false });
    expect(old('a b')).toEqual(['a', '\u2581b']);
  });

  it('split changes the ids of runs of spaces: BPE may not merge across words', async () => {
    const tokenizerJson = JSON.parse(readFileSync(join(tinyFixture.model, 'tokenizer.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const references =
      tinyFixture.json<Array<{ text: string; ids_no_special: number[]; tokens: string[] }>>('tokenizer_public.json');
    const code = references.find((reference) => reference.text.includes('    return'))!;
    const idOf = (token: string) => code.ids_no_special[code.tokens.indexOf(token) - 1]!;
    const splitting = await Tokenizer.fromFiles({
      tokenizerJson: {
        ...tokenizerJson,
        pre_tokenizer: { ...(tokenizerJson['pre_tokenizer'] as object), split: true },
      },
    });
    // Without split the reference has "▁▁▁" + "▁return"; with split every "▁" is its own word.
    expect(splitting.encode('x\n    return', { addSpecialTokens: false }).ids.slice(-4)).toEqual([
      idOf('\u2581'),
      idOf('\u2581'),
      idOf('\u2581'),
      idOf('\u2581return'),
    ]);
  });
});

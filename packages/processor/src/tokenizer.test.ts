import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VideoLlavaError } from '@video-llava/core';
import { fixtureCases, tinyFixture } from '@video-llava/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from './node.js';
import { Tokenizer } from './tokenizer.js';

interface TokenizerReference {
  text: string;
  ids: number[];
  ids_no_special: number[];
  tokens: string[];
  decoded: string;
  decoded_skip_special: string;
}

const references = tinyFixture.json<TokenizerReference[]>('tokenizer_public.json');
const tokenizerJson = JSON.parse(readFileSync(join(tinyFixture.model, 'tokenizer.json'), 'utf8')) as Record<
  string,
  unknown
>;
const tokenizerConfig = JSON.parse(readFileSync(join(tinyFixture.model, 'tokenizer_config.json'), 'utf8')) as Record<
  string,
  unknown
>;

/** The id the reference gives a token string (from the tokens/ids pairs of tokenizer_public.json). */
function referenceId(token: string): number {
  for (const reference of references) {
    const index = reference.tokens.indexOf(token);
    if (index !== -1) return reference.ids[index]!;
  }
  throw new Error(`no reference has the token ${token}`);
}

let tokenizer: Tokenizer;
beforeAll(async () => {
  tokenizer = await loadTokenizer(tinyFixture.model);
});

describe('Tokenizer against refs/tokenizer_public.json (exact)', () => {
  it.each(references.map((reference) => [JSON.stringify(reference.text), reference] as const))('%s', (_, reference) => {
    const withSpecial = tokenizer.encode(reference.text);
    expect(withSpecial.ids).toEqual(reference.ids);
    expect(withSpecial.tokens).toEqual(reference.tokens);
    expect(tokenizer.encode(reference.text, { addSpecialTokens: false }).ids).toEqual(reference.ids_no_special);
    expect(tokenizer.convertIdsToTokens(reference.ids)).toEqual(reference.tokens);
    expect(tokenizer.decode(reference.ids)).toBe(reference.decoded);
    expect(tokenizer.decode(reference.ids, { skipSpecialTokens: true })).toBe(reference.decoded_skip_special);
  });

  it('decodes the prompts and greedy answers of refs/cases.json as the reference batch_decode did', () => {
    for (const fixtureCase of fixtureCases()) {
      const inputIds = tinyFixture.npy(`case_${fixtureCase.name}`, 'input_ids.npy');
      const attentionMask = tinyFixture.npy(`case_${fixtureCase.name}`, 'attention_mask.npy');
      const [rows, length] = inputIds.dims as [number, number];
      for (let row = 0; row < rows; row++) {
        const prompt: bigint[] = [];
        for (let column = 0; column < length; column++) {
          if ((attentionMask.data as BigInt64Array)[row * length + column] === 1n)
            prompt.push((inputIds.data as BigInt64Array)[row * length + column]!);
        }
        const ids = [...prompt, ...fixtureCase.generated[row]!.map(BigInt)];
        expect(tokenizer.decode(ids, { skipSpecialTokens: true }), `${fixtureCase.name}[${row}]`).toBe(
          fixtureCase.decoded[row],
        );
      }
    }
  });

  it('knows the special tokens and the padding side of the checkpoint', () => {
    expect(tokenizer.bosTokenId).toBe(referenceId('<s>'));
    expect(tokenizer.eosTokenId).toBe(referenceId('</s>'));
    expect(tokenizer.padTokenId).toBe(tokenizer.tokenToId('<pad>'));
    expect(tokenizer.tokenToId('<video>')).toBe(referenceId('<video>'));
    expect(tokenizer.paddingSide).toBe('left');
    expect(tokenizer.isSpecialId(referenceId('<image>'))).toBe(true);
    expect(tokenizer.isSpecialId(referenceId('▁Hello'))).toBe(false);
  });
});

describe('Tokenizer.decode beyond the reference strings (the Rust tokenizer semantics)', () => {
  it('decodes an empty list to an empty string', () => {
    expect(tokenizer.decode([])).toBe('');
  });

  it('skips ids outside the vocabulary, as the Rust tokenizer does (the model has more logits than tokens)', () => {
    const [reference] = references;
    const outside = tokenizer.vocabSize;
    expect(tokenizer.decode([...reference!.ids, outside, outside + 5])).toBe(reference!.decoded);
  });

  it('turns bytes that are not valid UTF-8 into one U+FFFD per byte', () => {
    // The first two bytes of a three-byte character, then a word: two replacement characters, like Rust's ByteFallback.
    const chinese = references.find((reference) => reference.tokens.includes('<0xE9>'))!;
    const start = chinese.tokens.indexOf('<0xE9>');
    const truncated = [chinese.ids[start]!, chinese.ids[start + 1]!, referenceId('▁Hello')];
    expect(tokenizer.decode(truncated)).toBe('\uFFFD\uFFFD Hello');
  });

  it('refuses negative and fractional ids with the index', () => {
    expect(() => tokenizer.decode([1, -3])).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'ids[1]' }),
    );
    expect(() => tokenizer.decode([1.5])).toThrowError(VideoLlavaError);
  });

  it('accepts bigint ids (int64 tensors)', () => {
    const reference = references[2]!;
    expect(tokenizer.decode(BigInt64Array.from(reference.ids.map(BigInt)))).toBe(reference.decoded);
  });
});

describe('tokenizer_config.json on top of tokenizer.json', () => {
  it('legacy: false adds the "▁" only at the start of the text, not after special tokens', async () => {
    const nonLegacy = await Tokenizer.fromFiles({
      tokenizerJson,
      tokenizerConfig: { ...tokenizerConfig, legacy: false },
    });
    // "line" right after a special token: the legacy file gives "▁line"; non-legacy gives "line" (as after "\n").
    expect(nonLegacy.encode('<video>line', { addSpecialTokens: false }).ids).toEqual([
      referenceId('<video>'),
      referenceId('line'),
    ]);
    expect(tokenizer.encode('<video>line', { addSpecialTokens: false }).ids).toEqual([
      referenceId('<video>'),
      referenceId('▁line'),
    ]);
    // The start of the text still gets its "▁".
    expect(nonLegacy.encode('Hello world').ids).toEqual(
      references.find((reference) => reference.text === 'Hello world')!.ids,
    );
  });

  it('the legacy option overrides the config', async () => {
    const forced = await Tokenizer.fromFiles(
      { tokenizerJson, tokenizerConfig: { ...tokenizerConfig, legacy: false } },
      { legacy: true },
    );
    expect(forced.encode('<video>line', { addSpecialTokens: false }).ids).toEqual([
      referenceId('<video>'),
      referenceId('▁line'),
    ]);
  });

  it('rewrites the pre-0.19 normalizer layout (Prepend + Replace) into Metaspace with the same ids', async () => {
    const oldLayout = {
      ...tokenizerJson,
      normalizer: {
        type: 'Sequence',
        normalizers: [
          { type: 'Prepend', prepend: '\u2581' },
          { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' },
        ],
      },
      pre_tokenizer: null,
    };
    const legacyOld = await Tokenizer.fromFiles({ tokenizerJson: oldLayout, tokenizerConfig });
    // The old normalizer prepends "▁" even before a space (Metaspace does not), so compare where no section starts with one.
    const comparable = references.filter((reference) => !/(^|<image>|<video>|<s>|<\/s>) /.test(reference.text));
    expect(comparable.length).toBeGreaterThan(15);
    for (const reference of comparable)
      expect(legacyOld.encode(reference.text).ids, reference.text).toEqual(reference.ids);
    const nonLegacyOld = await Tokenizer.fromFiles({
      tokenizerJson: oldLayout,
      tokenizerConfig: { ...tokenizerConfig, legacy: false },
    });
    expect(nonLegacyOld.encode('<video>line', { addSpecialTokens: false }).ids).toEqual([
      referenceId('<video>'),
      referenceId('line'),
    ]);
  });

  it('an explicit add_bos_token / add_eos_token rebuilds the post-processor', async () => {
    const reference = references.find((entry) => entry.text === 'Hello world')!;
    const noBos = await Tokenizer.fromFiles({
      tokenizerJson,
      tokenizerConfig: { ...tokenizerConfig, add_bos_token: false },
    });
    expect(noBos.encode(reference.text).ids).toEqual(reference.ids_no_special);
    const withEos = await Tokenizer.fromFiles({
      tokenizerJson,
      tokenizerConfig: { ...tokenizerConfig, add_bos_token: true, add_eos_token: true },
    });
    expect(withEos.encode(reference.text).ids).toEqual([...reference.ids, referenceId('</s>')]);
  });

  it('adds tokens that only tokenizer_config.json lists (added_tokens_decoder)', async () => {
    const added = await Tokenizer.fromFiles({
      tokenizerJson,
      tokenizerConfig: { ...tokenizerConfig, added_tokens_decoder: { '32003': { content: '<extra>', special: true } } },
    });
    expect(added.tokenToId('<extra>')).toBe(32003);
    const reference = references.find((entry) => entry.text === 'Hello world')!;
    expect(added.encode('Hello world<extra>').ids).toEqual([...reference.ids, 32003]);
    expect(added.decode([...reference.ids, 32003], { skipSpecialTokens: true })).toBe(reference.decoded_skip_special);
  });

  it('clean_up_tokenization_spaces removes spaces before punctuation when set', async () => {
    const cleaning = await Tokenizer.fromFiles({
      tokenizerJson,
      tokenizerConfig: { ...tokenizerConfig, clean_up_tokenization_spaces: true },
    });
    const ids = [referenceId('▁Hello'), ...tokenizer.encode(' ,', { addSpecialTokens: false }).ids];
    expect(tokenizer.decode(ids)).toBe('Hello ,');
    expect(cleaning.decode(ids)).toBe('Hello,');
    expect(cleaning.decode(ids, { cleanUpTokenizationSpaces: false })).toBe('Hello ,');
  });

  it('names the file and field of a malformed tokenizer_config.json', async () => {
    await expect(
      Tokenizer.fromFiles({ tokenizerJson, tokenizerConfig: { padding_side: 'middle' } }),
    ).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      file: 'tokenizer_config.json',
      field: 'padding_side',
    });
  });

  it('refuses a tokenizer.json that is not BPE', async () => {
    await expect(
      Tokenizer.fromFiles({ tokenizerJson: { ...tokenizerJson, model: { type: 'WordPiece', vocab: {} } } }),
    ).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      field: 'model.type',
    });
  });

  it('names the missing tokenizer.json', async () => {
    await expect(loadTokenizer(tinyFixture.images)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });
});

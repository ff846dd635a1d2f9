import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tinyFixture } from '@video-llava/test-utils';
import {
  anyJson,
  fc,
  hostileParameters,
  mutatedJson,
  parsesOrFailsCleanly,
  parsesOrFailsCleanlyAsync,
} from '@video-llava/test-utils/hostile';
import { describe, expect, it } from 'vitest';
import { Tokenizer } from './tokenizer.js';
import { parseTokenizerConfig } from './tokenizer-config.js';

// The hostile-input suite for the tokenizer files (see @video-llava/test-utils/hostile): tokenizer_config.json and
// tokenizer.json with their values replaced by anything build a tokenizer that encodes and decodes, or fail with a
// VideoLlavaError of a known code naming the file; never another exception or a hang.

const tokenizerConfigJson = JSON.parse(
  readFileSync(join(tinyFixture.model, 'tokenizer_config.json'), 'utf8'),
) as Record<string, unknown>;
const fullTokenizerJson = JSON.parse(readFileSync(join(tinyFixture.model, 'tokenizer.json'), 'utf8')) as Record<
  string,
  any
>;

/** The fixture's tokenizer.json cut to 300 tokens and the merges among them: the same structure, small enough to mutate. */
function smallTokenizerJson(): Record<string, unknown> {
  const json = structuredClone(fullTokenizerJson);
  const vocab = Object.fromEntries(
    Object.entries(json.model.vocab as Record<string, number>).filter(([, id]) => id < 300),
  );
  const merges = (json.model.merges as Array<string | [string, string]>)
    .filter((merge) => {
      const [left, right] = typeof merge === 'string' ? merge.split(' ') : merge;
      return left! in vocab && right! in vocab && `${left}${right}` in vocab;
    })
    .slice(0, 40);
  json.model = { ...json.model, vocab, merges };
  json.added_tokens = (json.added_tokens as Array<{ id: number }>).map((token, index) => ({
    ...token,
    id: token.id < 300 ? token.id : 300 + index,
  }));
  return json;
}

const small = smallTokenizerJson();
const texts = ['USER: <video>\nWhy is this funny? ASSISTANT:', '', ' ', 'é🙂\u0000<s></s>', '<image><image>x'];

describe('hostile input: tokenizer files', () => {
  it('tokenizer_config.json parses or fails with INVALID_CONFIG naming it', () => {
    fc.assert(
      fc.property(
        fc.oneof(mutatedJson(tokenizerConfigJson), anyJson()),
        fc.option(mutatedJson({ pad_token: '<pad>', eos_token: { content: '</s>' } }), { nil: undefined }),
        (json, specialTokensMap) => {
          const outcome = parsesOrFailsCleanly('parseTokenizerConfig', () =>
            parseTokenizerConfig(
              json as Record<string, unknown>,
              'tokenizer_config.json',
              specialTokensMap as Record<string, unknown> | undefined,
            ),
          );
          if (!outcome.ok) {
            expect(outcome.error.code).toBe('INVALID_CONFIG');
            expect(outcome.error.file).toMatch(/tokenizer_config\.json|special_tokens_map\.json/);
          }
        },
      ),
      hostileParameters(600),
    );
  });

  it('the small tokenizer builds and round-trips text', async () => {
    const tokenizer = await Tokenizer.fromFiles({ tokenizerJson: small, tokenizerConfig: tokenizerConfigJson });
    // Its vocabulary has few words: text falls back to bytes, and decodes back to the same characters.
    const ids = tokenizer.encode('is the', { addSpecialTokens: false }).ids;
    expect(ids.length).toBeGreaterThan(0);
    expect(tokenizer.decode(ids).replaceAll('\u2581', ' ').trim()).toBe('is the');
  });

  it('tokenizer.json and its config, mutated, build a tokenizer that encodes and decodes, or fail naming the file', async () => {
    const files = fc.oneof(
      fc.record({ tokenizerJson: mutatedJson(small), tokenizerConfig: fc.constant(tokenizerConfigJson) }),
      fc.record({
        tokenizerJson: fc.constant(small),
        tokenizerConfig: mutatedJson(tokenizerConfigJson) as fc.Arbitrary<Record<string, unknown>>,
      }),
      fc.record({ tokenizerJson: anyJson(), tokenizerConfig: fc.constant({}) }),
    );
    await fc.assert(
      fc.asyncProperty(
        files,
        fc.constantFrom(...texts),
        fc.array(fc.integer({ min: -2, max: 400 }), { maxLength: 8 }),
        async (input, text, ids) => {
          const built = await parsesOrFailsCleanlyAsync('Tokenizer.fromFiles', () =>
            Tokenizer.fromFiles({ ...input, file: 'fuzz/tokenizer.json' }),
          );
          if (!built.ok) {
            expect(['INVALID_CONFIG', 'UNSUPPORTED', 'INVALID_JSON'], built.error.message).toContain(built.error.code);
            expect(built.error.file).toMatch(/^fuzz\/(tokenizer|tokenizer_config)\.json$/);
            return;
          }
          const tokenizer = built.value;
          const encoded = parsesOrFailsCleanly('encode', () => tokenizer.encode(text));
          if (encoded.ok) parsesOrFailsCleanly('decode', () => tokenizer.decode(encoded.value.ids));
          parsesOrFailsCleanly('decode(any ids)', () => tokenizer.decode(ids));
          parsesOrFailsCleanly('encode(literal prompt)', () =>
            tokenizer.encode({ text, literalRanges: [[0, text.length]] }),
          );
        },
      ),
      hostileParameters(250),
    );
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as LibraryTokenizer } from '@huggingface/tokenizers';
import { loadTokenizer } from '@video-llava/processor/node';
import { tinyFixture } from '@video-llava/test-utils';
import { type BenchRow, type BenchSuite, median, medianMs } from './types.js';

/** Medians of `first` and `second` timed in alternation, so that JIT warm-up and machine noise hit both alike. */
async function interleavedMedians(first: () => unknown, second: () => unknown, rounds = 15): Promise<[number, number]> {
  const firstTimes: number[] = [];
  const secondTimes: number[] = [];
  for (let round = 0; round < rounds; round++) {
    firstTimes.push(await medianMs(first, 1, round === 0 ? 2 : 0));
    secondTimes.push(await medianMs(second, 1, round === 0 ? 2 : 0));
  }
  return [median(firstTimes), median(secondTimes)];
}

// Our tokenizer (the library plus the Rust-exact Metaspace pre-tokenizer, our decoders and the config handling)
// against @huggingface/tokenizers alone, on the same tokenizer.json and the same text, in the same run.
const suite: BenchSuite = {
  title: 'Tokenizer: tokens per second, ours vs @huggingface/tokenizers alone',
  async run(): Promise<BenchRow[]> {
    const ours = await loadTokenizer(tinyFixture.model);
    const tokenizerJson = JSON.parse(readFileSync(join(tinyFixture.model, 'tokenizer.json'), 'utf8')) as object;
    const tokenizerConfig = JSON.parse(
      readFileSync(join(tinyFixture.model, 'tokenizer_config.json'), 'utf8'),
    ) as object;
    const library = new LibraryTokenizer(tokenizerJson, tokenizerConfig);

    // Realistic prompts: the reference strings (English, code, CJK, emoji, special tokens), as lines of a long text.
    const references = tinyFixture.json<Array<{ text: string }>>('tokenizer_public.json');
    const lines = references.map((reference) => reference.text);
    const texts = Array.from({ length: 40 }, (_, index) =>
      lines.map((line, position) => `${line} (${index}.${position})`).join('\n'),
    );
    const tokenCount = texts.reduce((sum, text) => sum + ours.encode(text).ids.length, 0);
    const libraryCount = texts.reduce((sum, text) => sum + library.encode(text).ids.length, 0);

    const [encodeOurs, encodeLibrary] = await interleavedMedians(
      () => texts.forEach((text) => ours.encode(text)),
      () => texts.forEach((text) => library.encode(text)),
    );
    const ids = texts.map((text) => ours.encode(text).ids);
    const [decodeOurs, decodeLibrary] = await interleavedMedians(
      () => ids.forEach((sequence) => ours.decode(sequence, { skipSpecialTokens: true })),
      () => ids.forEach((sequence) => library.decode(sequence, { skip_special_tokens: true })),
    );
    const streamOurs = await medianMs(() =>
      ids.forEach((sequence) => {
        const stream = ours.createStreamDecoder({ skipSpecialTokens: true });
        for (const id of sequence) stream.push(id);
        stream.flush();
      }),
    );

    const perSecond = (milliseconds: number): number => (tokenCount / milliseconds) * 1000;
    const note = `${texts.length} texts, ${tokenCount} tokens${libraryCount === tokenCount ? '' : ` (the library alone gives ${libraryCount})`}`;
    return [
      {
        name: 'encode',
        value: perSecond(encodeOurs),
        unit: 'tokens/s',
        peer: { name: '@huggingface/tokenizers', value: perSecond(encodeLibrary) },
        ratio: encodeLibrary / encodeOurs,
        ratioMeaning: 'ours / library (higher is better)',
        note,
      },
      {
        name: 'decode (skip special tokens)',
        value: perSecond(decodeOurs),
        unit: 'tokens/s',
        peer: { name: '@huggingface/tokenizers', value: perSecond(decodeLibrary) },
        ratio: decodeLibrary / decodeOurs,
        ratioMeaning: 'ours / library (higher is better)',
        note,
      },
      {
        name: 'streaming decode, one id at a time',
        value: perSecond(streamOurs),
        unit: 'tokens/s',
        peer: { name: 'our whole-sequence decode', value: perSecond(decodeOurs) },
        ratio: decodeOurs / streamOurs,
        ratioMeaning: 'streaming / whole decode (higher is better)',
      },
    ];
  },
};

export default suite;

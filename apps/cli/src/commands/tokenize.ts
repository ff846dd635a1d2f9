import { resolveSource } from '@video-llava/config/node';
import { Tokenizer } from '@video-llava/processor';
import { type CliCommand, UsageError } from '../command.js';
import { defineCommand } from '../define-command.js';
import { checkModelArgument, modelPositional, sourceFlags, sourceOptionsFromFlags } from '../model-source-arguments.js';
import { jsonFlag, writeResult } from '../write-result.js';

const usage = [
  'video-llava tokenize <model-dir | org/name[@revision] | https://...> --text TEXT [--no-special] [--json]',
  '                     [--cache-dir <dir>] [--offline]',
].join('\n');

/** What `tokenize --json` prints. */
export interface TokenizeResult {
  /** Token ids. */
  ids: number[];
  /** Token strings. */
  tokens: string[];
  /** `decode(ids)`. */
  decoded: string;
  /** `decode(ids, { skipSpecialTokens: true })`. */
  decodedSkipSpecial: string;
}

/** Tokenizes `text` and decodes it back both ways. */
export function tokenizeText(tokenizer: Tokenizer, text: string, addSpecialTokens: boolean): TokenizeResult {
  const { ids, tokens } = tokenizer.encode(text, { addSpecialTokens });
  return {
    ids,
    tokens,
    decoded: tokenizer.decode(ids),
    decodedSkipSpecial: tokenizer.decode(ids, { skipSpecialTokens: true }),
  };
}

function formatText(result: TokenizeResult): string {
  return [
    `ids (${result.ids.length}): ${result.ids.join(' ')}`,
    `tokens: ${result.tokens.map((token) => JSON.stringify(token)).join(' ')}`,
    `decoded: ${JSON.stringify(result.decoded)}`,
    `decoded without special tokens: ${JSON.stringify(result.decodedSkipSpecial)}`,
    '',
  ].join('\n');
}

/** `video-llava tokenize`: the checkpoint's tokenizer on one text, with transformers' exact ids. */
export const command: CliCommand = defineCommand({
  name: 'tokenize',
  summary: 'Tokenize text with the checkpoint tokenizer: ids, tokens, decoded text',
  usage,
  options: {
    text: { type: 'string', value: 'TEXT', description: 'the text to tokenize' },
    'no-special': {
      type: 'boolean',
      default: false,
      description: 'leave out the special tokens the tokenizer adds (the BOS token)',
    },
    ...jsonFlag('print ids, tokens and both decodings as one JSON line instead of text'),
    ...sourceFlags,
  },
  positionals: [modelPositional],
  async run({ values, positionals: [model] }, io) {
    const text = values.text;
    if (text === undefined) throw new UsageError('missing --text TEXT: the text to tokenize', usage);
    checkModelArgument(model, io.cwd);
    const tokenizer = await Tokenizer.fromPretrained(resolveSource(model, sourceOptionsFromFlags(values, io)));
    writeResult(io, tokenizeText(tokenizer, text, !values['no-special']), { json: values.json, formatText });
    return 0;
  },
});

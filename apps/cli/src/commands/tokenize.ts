import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveSource } from '@video-llava/config/node';
import { Tokenizer } from '@video-llava/processor';
import { type CliCommand, UsageError } from '../command.js';

const usage = 'video-llava tokenize <model-dir | org/name[@revision] | https://...> --text TEXT [--no-special] [--json] [--cache-dir <dir>] [--offline]';

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
  return { ids, tokens, decoded: tokenizer.decode(ids), decodedSkipSpecial: tokenizer.decode(ids, { skipSpecialTokens: true }) };
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
export const command: CliCommand = {
  name: 'tokenize',
  summary: 'Tokenize text with the checkpoint tokenizer: ids, tokens, decoded text',
  usage,
  async run(argv, io) {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          text: { type: 'string' },
          'no-special': { type: 'boolean', default: false },
          json: { type: 'boolean', default: false },
          'cache-dir': { type: 'string' },
          offline: { type: 'boolean', default: false },
        },
      });
    } catch (error) {
      throw new UsageError((error as Error).message, usage);
    }
    const [model, ...extra] = parsed.positionals;
    if (model === undefined) throw new UsageError('missing <model-dir>: a checkpoint folder, a hub id (org/name) or a URL', usage);
    if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`, usage);
    const text = parsed.values.text;
    if (text === undefined) throw new UsageError('missing --text TEXT: the text to tokenize', usage);
    const source = resolveSource(model, {
      cwd: io.cwd,
      env: io.env,
      hub: { ...(parsed.values['cache-dir'] ? { cacheDirectory: resolve(io.cwd, parsed.values['cache-dir']) } : {}), ...(parsed.values.offline ? { offline: true } : {}) },
    });
    const result = tokenizeText(await Tokenizer.fromPretrained(source), text, !parsed.values['no-special']);
    io.stdout.write(parsed.values.json ? `${JSON.stringify(result)}\n` : formatText(result));
    return 0;
  },
};

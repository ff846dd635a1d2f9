import { readJsonFile, type ModelSource, type ReadOptions } from '@video-llava/config';
import { VideoLlavaError, describeValue } from '@video-llava/core';
import type { DecodeOptions } from './decode-options.js';
import { createMetaspacePreTokenizer } from './metaspace-pre-tokenizer.js';
import { PRIVATE_TOKEN_MARK, type PromptText, alternation, isPromptText } from './prompt-text.js';
import { type StreamDecodingTokenizer, TokenStreamDecoder } from './token-stream-decoder.js';
import { createTokenDecoder, type TokenDecoder } from './token-decoder.js';
import { parseTokenizerConfig, type TokenizerConfig } from './tokenizer-config.js';
import { prepareTokenizerJson } from './tokenizer-json.js';

export type { DecodeOptions } from './decode-options.js';

/** Options of {@link Tokenizer.encode}. */
export interface EncodeOptions {
  /**
   * Add the special tokens of the post-processor (the BOS `<s>` for LLaMA), like transformers' `add_special_tokens`.
   * @default true
   */
  addSpecialTokens?: boolean;
}

/** What {@link Tokenizer.encode} returns. */
export interface Encoding {
  /** Token ids. */
  ids: number[];
  /** The token strings, e.g. `["<s>", "▁Hello", "▁world"]`. */
  tokens: string[];
}

/** Options for loading a {@link Tokenizer}. */
export interface TokenizerOptions {
  /**
   * Force the LLaMA `legacy` behaviour on (`true`: a "▁" is added after every special token, as `tokenizer.json`
   * files written by transformers v4 do) or off (`false`: only at the start of the text).
   * @default `legacy` of tokenizer_config.json; when absent, `tokenizer.json` as written
   */
  legacy?: boolean;
}

/** What `@huggingface/tokenizers` exposes that the wrapper uses. */
interface Backend {
  encode(text: string, options: { add_special_tokens: boolean }): { ids: number[]; tokens: string[] };
  decoder: ((tokens: string[]) => string) | null;
  pre_tokenizer: unknown;
}

/** The files a tokenizer is made of, parsed. */
export interface TokenizerFiles {
  /** `tokenizer.json`. */
  tokenizerJson: unknown;
  /** `tokenizer_config.json` (`{}` when absent). */
  tokenizerConfig?: Record<string, unknown>;
  /** `special_tokens_map.json`, when the checkpoint has one. */
  specialTokensMap?: Record<string, unknown>;
  /** Where `tokenizer.json` came from, for messages. @default "tokenizer.json" */
  file?: string;
}

function cleanUpTokenization(text: string): string {
  // transformers' PreTrainedTokenizerBase.clean_up_tokenization.
  return text
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

function toId(value: number | bigint, index: number): number {
  const id = typeof value === 'bigint' ? Number(value) : value;
  if (!Number.isSafeInteger(id) || id < 0) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `Token id at index ${index} is ${describeValue(value)}; token ids are non-negative integers.`,
      {
        field: `ids[${index}]`,
        expected: 'a non-negative integer',
        actual: value,
      },
    );
  }
  return id;
}

/**
 * A Hugging Face tokenizer (`tokenizer.json` + `tokenizer_config.json`) with transformers' exact ids and decoding:
 * LLaMA BPE with byte fallback, the added tokens `<image>`, `<video>`, `<pad>`, BOS handling, `decode` with and
 * without special tokens, and a streaming decoder that never emits half a UTF-8 character.
 *
 * Encoding runs on `@huggingface/tokenizers` (loaded on first use) with the SentencePiece pre-tokenizer replaced by
 * a port of the Rust one; decoding is a port of the Rust decoders, which transformers calls.
 *
 * @example
 * ```ts
 * const tokenizer = await Tokenizer.fromPretrained(source);
 * const { ids } = tokenizer.encode('USER: <video>\nWhy is this funny? ASSISTANT:');
 * tokenizer.decode(ids, { skipSpecialTokens: true });
 * ```
 */
export class Tokenizer implements StreamDecodingTokenizer {
  /** The parsed `tokenizer_config.json`. */
  readonly config: TokenizerConfig;
  private readonly backend: Backend;
  private readonly tokenDecoder: TokenDecoder;
  private readonly idToTokenTable: Array<string | undefined>;
  private readonly tokenToIdTable: Map<string, number>;
  private readonly specialTokens: Set<string>;
  private readonly specialIds: number[];
  private readonly buildLiteralBackend: () => Backend;
  private literalBackendInstance: Backend | undefined;
  private readonly addedTokenPattern: RegExp | undefined;
  private readonly addedIds: number[];
  private readonly file: string;

  private constructor(
    backend: Backend,
    buildLiteralBackend: () => Backend,
    addedTokenContents: readonly string[],
    file: string,
    config: TokenizerConfig,
    decoderConfig: unknown,
    idToToken: Array<string | undefined>,
    tokenToId: Map<string, number>,
    specialTokens: Map<string, number>,
  ) {
    this.backend = backend;
    this.buildLiteralBackend = buildLiteralBackend;
    this.file = file;
    this.addedTokenPattern = alternation(addedTokenContents);
    this.addedIds = [...new Set(addedTokenContents.map((content) => tokenToId.get(content)!))].sort((a, b) => a - b);
    this.config = config;
    this.idToTokenTable = idToToken;
    this.tokenToIdTable = tokenToId;
    this.specialTokens = new Set(specialTokens.keys());
    this.specialIds = [...new Set(specialTokens.values())].sort((a, b) => a - b);
    const fallback = (tokens: string[]): string =>
      backend.decoder ? this.runBackend(() => backend.decoder!(tokens)) : tokens.join(' ');
    this.tokenDecoder = createTokenDecoder(decoderConfig, fallback);
  }

  /**
   * Builds a tokenizer from parsed files.
   *
   * @throws VideoLlavaError `INVALID_CONFIG` naming the file and field of anything malformed
   */
  static async fromFiles(files: TokenizerFiles, options: TokenizerOptions = {}): Promise<Tokenizer> {
    const file = files.file ?? 'tokenizer.json';
    const configFile = file.replace(/tokenizer\.json$/, 'tokenizer_config.json');
    const config = parseTokenizerConfig(
      files.tokenizerConfig ?? {},
      configFile === file ? 'tokenizer_config.json' : configFile,
      files.specialTokensMap,
    );
    const prepared = prepareTokenizerJson(files.tokenizerJson, config, file, options.legacy ?? config.legacy);
    const { Tokenizer: BackendTokenizer } = await import('@huggingface/tokenizers');
    const build = (json: Record<string, unknown>): Backend => {
      let built: Backend;
      try {
        // The backend reads only clean_up_tokenization_spaces and a few flags from the config; decoding is ours.
        built = new BackendTokenizer(json, { clean_up_tokenization_spaces: false }) as unknown as Backend;
      } catch (error) {
        throw new VideoLlavaError(
          'INVALID_CONFIG',
          `${file}: the tokenizer could not be built (${(error as Error).message}).`,
          {
            file,
            expected: 'a Hugging Face tokenizer.json',
            actual: (error as Error).message,
            cause: error,
          },
        );
      }
      const preTokenizer = json['pre_tokenizer'] as Record<string, unknown> | null | undefined;
      if (preTokenizer && preTokenizer['type'] === 'Metaspace')
        built.pre_tokenizer = createMetaspacePreTokenizer(preTokenizer);
      return built;
    };
    const backend = build(prepared.json);
    // The same tokenizer with every added token renamed to a private string: text that spells an added token is
    // then tokenized as the characters it is, and only the renamed strings (put in by encode) are matched.
    const buildLiteralBackend = (): Backend => {
      const json = structuredClone(prepared.json);
      const added = json['added_tokens'];
      if (Array.isArray(added)) {
        for (const token of added as Array<Record<string, unknown>>)
          token['content'] = `${PRIVATE_TOKEN_MARK}${String(token['id'])}${PRIVATE_TOKEN_MARK}`;
      }
      return build(json);
    };

    const idToToken: Array<string | undefined> = [];
    const tokenToId = new Map<string, number>();
    for (const [token, id] of prepared.vocabulary) {
      idToToken[id] = token;
      tokenToId.set(token, id);
    }
    const specialTokens = new Map<string, number>();
    for (const token of prepared.addedTokens.values()) {
      idToToken[token.id] = token.content;
      tokenToId.set(token.content, token.id);
      if (token.special) specialTokens.set(token.content, token.id);
    }
    const addedTokenContents = [...prepared.addedTokens.values()].map((token) => token.content);
    const tokenizer = new Tokenizer(
      backend,
      buildLiteralBackend,
      addedTokenContents,
      file,
      config,
      prepared.json['decoder'] ?? null,
      idToToken,
      tokenToId,
      specialTokens,
    );
    // The backend checks little when it is built: parts it cannot run fail on the first text. Run one now, so that
    // a broken file is refused when it loads.
    tokenizer.decode(tokenizer.encode(`a b${addedTokenContents[0] ?? ''}`).ids);
    return tokenizer;
  }

  /**
   * Loads `tokenizer.json`, `tokenizer_config.json` and `special_tokens_map.json` (the last two when present) from a
   * checkpoint.
   *
   * @param source the checkpoint (`DirectorySource` from `@video-llava/config/node`, an HTTP or hub source)
   * @throws VideoLlavaError `FILE_NOT_FOUND` when there is no `tokenizer.json` (a checkpoint with only the
   *   SentencePiece `tokenizer.model` must be converted first), `INVALID_CONFIG` for malformed files
   */
  static async fromPretrained(source: ModelSource, options: TokenizerOptions & ReadOptions = {}): Promise<Tokenizer> {
    const description = source.description.replace(/\/$/, '');
    if (!(await source.exists('tokenizer.json', options))) {
      const hasModel = await source.exists('tokenizer.model', options);
      throw new VideoLlavaError(
        'FILE_NOT_FOUND',
        `${description}/tokenizer.json: no such file${hasModel ? ' (the checkpoint has only the SentencePiece tokenizer.model; save it with transformers to get tokenizer.json)' : ''}.`,
        {
          file: `${description}/tokenizer.json`,
          expected: 'tokenizer.json',
          actual: hasModel ? 'tokenizer.model only' : 'missing',
        },
      );
    }
    const [tokenizerJson, tokenizerConfig, specialTokensMap] = await Promise.all([
      readJsonFile(source, 'tokenizer.json', options),
      readJsonFile(source, 'tokenizer_config.json', { ...options, optional: true }),
      readJsonFile(source, 'special_tokens_map.json', { ...options, optional: true }),
    ]);
    return Tokenizer.fromFiles(
      {
        tokenizerJson,
        tokenizerConfig: tokenizerConfig ?? {},
        ...(specialTokensMap ? { specialTokensMap } : {}),
        file: `${description}/tokenizer.json`,
      },
      options,
    );
  }

  /**
   * Tokenizes `text`. Added tokens such as `<image>` are matched first; the text between them goes through the
   * normalizer, the pre-tokenizer and BPE (with byte fallback for characters outside the vocabulary).
   *
   * A {@link PromptText} (a chat prompt whose user text is marked) is tokenized the same way, except that an
   * added-token string inside one of its literal ranges is not matched: it is tokenized as the characters it is
   * (transformers' `split_special_tokens=True`, for the user's text only). Private-use characters U+E000 in such a
   * prompt become U+FFFD.
   */
  encode(text: string | PromptText, options: EncodeOptions = {}): Encoding {
    const addSpecialTokens = { add_special_tokens: options.addSpecialTokens ?? true };
    if (isPromptText(text)) {
      const literal = this.literalForm(text);
      if (literal === undefined) return this.encode(text.text, options);
      const { ids, tokens } = this.runBackend(() => this.literalBackend.encode(literal, addSpecialTokens));
      return {
        ids,
        tokens: tokens.map((token, index) =>
          typeof token === 'string' && token.startsWith(PRIVATE_TOKEN_MARK)
            ? (this.idToTokenTable[ids[index]!] ?? token)
            : token,
        ),
      };
    }
    if (typeof text !== 'string') {
      throw new VideoLlavaError('INVALID_ARGUMENT', `Tokenizer.encode needs a string, found ${describeValue(text)}.`, {
        field: 'text',
        expected: 'a string',
        actual: typeof text,
      });
    }
    const { ids, tokens } = this.runBackend(() => this.backend.encode(text, addSpecialTokens));
    return { ids, tokens };
  }

  /** A backend failure means a part of tokenizer.json it accepted but cannot run: the file's fault. */
  private runBackend<T>(run: () => T): T {
    let result: T;
    try {
      result = run();
    } catch (error) {
      if (VideoLlavaError.isInstance(error)) throw error;
      throw new VideoLlavaError(
        'INVALID_CONFIG',
        `${this.file}: the tokenizer it describes fails on text (${error instanceof Error ? error.message : String(error)}); the file is malformed.`,
        {
          file: this.file,
          expected: 'a Hugging Face tokenizer.json',
          actual: error instanceof Error ? error.message : String(error),
          cause: error,
        },
      );
    }
    const encoding = result as { ids?: unknown; tokens?: unknown };
    if (Array.isArray(encoding?.ids)) {
      encoding.ids.forEach((id: unknown, index: number) => {
        if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
          const token = Array.isArray(encoding.tokens) ? encoding.tokens[index] : undefined;
          throw new VideoLlavaError(
            'INVALID_CONFIG',
            `${this.file}: the tokenizer it describes gives the token ${describeValue(token)} the id ${describeValue(id)} (not in its vocabulary); the file is malformed.`,
            {
              file: this.file,
              expected: 'a non-negative integer id for every token',
              actual: id,
            },
          );
        }
      });
    }
    return result;
  }

  private get literalBackend(): Backend {
    this.literalBackendInstance ??= this.buildLiteralBackend();
    return this.literalBackendInstance;
  }

  /**
   * The text for the literal backend: added tokens outside the literal ranges renamed to their private strings,
   * those inside left as text. Undefined when no added-token string lies inside a literal range (then the prompt
   * tokenizes as its plain text, with the same ids).
   */
  private literalForm(prompt: PromptText): string | undefined {
    const pattern = this.addedTokenPattern;
    if (pattern === undefined || prompt.literalRanges.length === 0) return undefined;
    const inLiteral = (start: number, end: number): boolean =>
      prompt.literalRanges.some(([from, to]) => start < to && end > from);
    let out = '';
    let last = 0;
    let literalFound = false;
    for (const match of prompt.text.matchAll(pattern)) {
      const start = match.index;
      const end = start + match[0].length;
      out += prompt.text.slice(last, start).replaceAll(PRIVATE_TOKEN_MARK, '\uFFFD');
      if (inLiteral(start, end)) {
        literalFound = true;
        out += match[0];
      } else {
        out += `${PRIVATE_TOKEN_MARK}${this.tokenToIdTable.get(match[0])}${PRIVATE_TOKEN_MARK}`;
      }
      last = end;
    }
    out += prompt.text.slice(last).replaceAll(PRIVATE_TOKEN_MARK, '\uFFFD');
    return literalFound ? out : undefined;
  }

  /**
   * Turns ids back into text exactly as transformers' `decode` does. Ids outside the vocabulary are skipped
   * (as the Rust tokenizer does); bytes that do not form valid UTF-8 become one U+FFFD each.
   *
   * @throws VideoLlavaError `INVALID_ARGUMENT` for an id that is not a non-negative integer
   */
  decode(ids: ArrayLike<number | bigint>, options: DecodeOptions = {}): string {
    const tokens: string[] = [];
    for (let index = 0; index < ids.length; index++) {
      const token = this.idToTokenTable[toId(ids[index]!, index)];
      if (token === undefined) continue;
      if (options.skipSpecialTokens && this.specialTokens.has(token)) continue;
      tokens.push(token);
    }
    const text = this.tokenDecoder.decode(tokens);
    return (options.cleanUpTokenizationSpaces ?? this.config.cleanUpTokenizationSpaces)
      ? cleanUpTokenization(text)
      : text;
  }

  /** {@link decode} for each sequence. */
  batchDecode(sequences: ReadonlyArray<ArrayLike<number | bigint>>, options: DecodeOptions = {}): string[] {
    return sequences.map((ids) => this.decode(ids, options));
  }

  /** A decoder for a stream of generated ids (see {@link TokenStreamDecoder}). */
  createStreamDecoder(options: DecodeOptions = {}): TokenStreamDecoder {
    return new TokenStreamDecoder(this, options);
  }

  /** The token string of each id (`undefined` for ids outside the vocabulary). */
  convertIdsToTokens(ids: ArrayLike<number | bigint>): Array<string | undefined> {
    return Array.from({ length: ids.length }, (_, index) => this.idToTokenTable[toId(ids[index]!, index)]);
  }

  /** The id of a token string (added tokens included), or `undefined`. */
  tokenToId(token: string): number | undefined {
    return this.tokenToIdTable.get(token);
  }

  /** The token string of an id, or `undefined` outside the vocabulary. */
  idToToken(id: number): string | undefined {
    return this.idToTokenTable[id];
  }

  /** Whether `id` is a special token (dropped by `skipSpecialTokens`). */
  isSpecialId(id: number): boolean {
    const token = this.idToTokenTable[id];
    return token !== undefined && this.specialTokens.has(token);
  }

  /** Whether the decoder turns `<0xHH>` tokens into bytes (streaming then holds incomplete characters). */
  get byteFallback(): boolean {
    return this.tokenDecoder.byteFallback;
  }

  /** The ids of every added token (`added_tokens` of tokenizer.json, special or not), ascending. */
  get addedTokenIds(): readonly number[] {
    return this.addedIds;
  }

  /** The ids of all special tokens, ascending. */
  get allSpecialIds(): readonly number[] {
    return this.specialIds;
  }

  /** Vocabulary size with the added tokens (Python's `len(tokenizer)`). */
  get vocabSize(): number {
    return this.idToTokenTable.length;
  }

  /** `bos_token`'s id, or null. */
  get bosTokenId(): number | null {
    return this.namedId(this.config.bosToken);
  }

  /** `eos_token`'s id, or null. */
  get eosTokenId(): number | null {
    return this.namedId(this.config.eosToken);
  }

  /** `pad_token`'s id, or null when the tokenizer has no pad token. */
  get padTokenId(): number | null {
    return this.namedId(this.config.padToken);
  }

  /** `unk_token`'s id, or null. */
  get unkTokenId(): number | null {
    return this.namedId(this.config.unkToken);
  }

  /** Which side a batch is padded on (`padding_side`). */
  get paddingSide(): 'left' | 'right' {
    return this.config.paddingSide;
  }

  private namedId(token: string | null): number | null {
    return token === null ? null : (this.tokenToIdTable.get(token) ?? null);
  }
}

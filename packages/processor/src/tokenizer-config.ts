import { FieldReader } from '@video-llava/config';
import { VideoLlavaError, describeValue } from '@video-llava/core';

/** A token that `tokenizer_config.json` names (`added_tokens_decoder`, `additional_special_tokens`, ...). */
export interface TokenSpec {
  /** The token's text, e.g. `<image>`. */
  content: string;
  /** Whether `decode(..., { skipSpecialTokens: true })` drops it. */
  special: boolean;
  /** Strip whitespace on the left of the token when matching it in text. */
  lstrip: boolean;
  /** Strip whitespace on the right of the token when matching it in text. */
  rstrip: boolean;
  /** Match the token only as a whole word. */
  singleWord: boolean;
  /** Match the token after normalization rather than in the raw text. */
  normalized: boolean;
}

/**
 * `tokenizer_config.json` (plus `special_tokens_map.json` for checkpoints that keep the named tokens there),
 * validated, in camelCase. Fields the reference does not use in encoding or decoding are in {@link raw}.
 */
export interface TokenizerConfig {
  /** `tokenizer_class`, e.g. `LlamaTokenizer` or `LlamaTokenizerFast`; null when absent. */
  tokenizerClass: string | null;
  /** `bos_token`. */
  bosToken: string | null;
  /** `eos_token`. */
  eosToken: string | null;
  /** `unk_token`. */
  unkToken: string | null;
  /** `pad_token`; null when the tokenizer has none (then a batch of unequal lengths cannot be padded). */
  padToken: string | null;
  /** `add_bos_token`; null leaves the post-processor of `tokenizer.json` as it is. */
  addBosToken: boolean | null;
  /** `add_eos_token`; null leaves the post-processor of `tokenizer.json` as it is. */
  addEosToken: boolean | null;
  /** `clean_up_tokenization_spaces` (false for LLaMA). */
  cleanUpTokenizationSpaces: boolean;
  /** `legacy`: null when absent (then `tokenizer.json` is used as written). */
  legacy: boolean | null;
  /** `padding_side`; LLaMA tokenizers default to `left` (transformers' class attribute), others to `right`. */
  paddingSide: 'left' | 'right';
  /** `model_max_length`; null when absent or one of transformers' "unlimited" sentinels (about 1e30). */
  modelMaxLength: number | null;
  /** `chat_template` (the `default` one when the file holds a list of named templates); null when absent. */
  chatTemplate: string | null;
  /** `additional_special_tokens` / `extra_special_tokens`. */
  additionalSpecialTokens: TokenSpec[];
  /** `added_tokens_decoder`: id to token. */
  addedTokensDecoder: Map<number, TokenSpec>;
  /** The JSON as read. */
  raw: Record<string, unknown>;
}

// transformers writes int(1e30) for "no limit"; anything this large is not a real limit.
const UNLIMITED_MODEL_MAX_LENGTH = 1e20;

function readTokenSpec(value: unknown, reader: FieldReader, field: string, special: boolean): TokenSpec {
  if (typeof value === 'string')
    return { content: value, special, lstrip: false, rstrip: false, singleWord: false, normalized: false };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const token = new FieldReader(value as Record<string, unknown>, reader.file, reader.path(field));
    const content = token.json['content'];
    if (typeof content !== 'string') return token.fail('content', 'a string', content);
    return {
      content,
      special: token.boolean('special', special),
      lstrip: token.boolean('lstrip', false),
      rstrip: token.boolean('rstrip', false),
      singleWord: token.boolean('single_word', false),
      normalized: token.boolean('normalized', false),
    };
  }
  return reader.fail(field, 'a string or an {"content": ...} token object', value);
}

function readNamedToken(reader: FieldReader, fallback: FieldReader | null, name: string): string | null {
  const source = reader.has(name) ? reader : fallback?.has(name) ? fallback : null;
  if (!source) return null;
  return readTokenSpec(source.json[name], source, name, true).content;
}

function readTokenList(reader: FieldReader, name: string): TokenSpec[] {
  const value = reader.json[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) reader.fail(name, 'a list of tokens', value);
  return value.map((item, index) => readTokenSpec(item, reader, `${name}[${index}]`, true));
}

function readChatTemplate(reader: FieldReader): string | null {
  const value = reader.json['chat_template'];
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    // transformers' list form: [{ name, template }]; the one named "default" is what apply_chat_template uses.
    for (const [index, item] of value.entries()) {
      const entry = item as { name?: unknown; template?: unknown } | null;
      if (
        typeof entry !== 'object' ||
        entry === null ||
        typeof entry.name !== 'string' ||
        typeof entry.template !== 'string'
      ) {
        reader.fail(`chat_template[${index}]`, 'an object {"name": string, "template": string}', item);
      }
    }
    const named = value as Array<{ name: string; template: string }>;
    return (
      (named.find((entry) => entry.name === 'default') ?? (named.length === 1 ? named[0] : undefined))?.template ?? null
    );
  }
  return reader.fail('chat_template', 'a string or a list of {"name", "template"}', value);
}

/**
 * Parses `tokenizer_config.json` with transformers' defaults.
 *
 * @param json the parsed `tokenizer_config.json` (`{}` when the checkpoint has none)
 * @param file the file name for error messages
 * @param specialTokensMap the parsed `special_tokens_map.json`, consulted for named tokens the config lacks
 * @throws VideoLlavaError `INVALID_CONFIG` naming the file and field of a malformed value
 */
function jsonObject(value: unknown, file: string): Record<string, unknown> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new VideoLlavaError('INVALID_CONFIG', `${file}: should hold a JSON object, found ${describeValue(value)}.`, {
    file,
    expected: 'a JSON object',
    actual: value,
  });
}

export function parseTokenizerConfig(
  json: Record<string, unknown>,
  file = 'tokenizer_config.json',
  specialTokensMap?: Record<string, unknown>,
): TokenizerConfig {
  const reader = new FieldReader(jsonObject(json, file), file);
  const mapReader = specialTokensMap
    ? new FieldReader(jsonObject(specialTokensMap, 'special_tokens_map.json'), 'special_tokens_map.json')
    : null;
  const tokenizerClass = reader.optionalString('tokenizer_class');
  const isLlama = tokenizerClass !== null && /^(Code)?Llama/.test(tokenizerClass);
  const optionalBoolean = (name: string): boolean | null => (reader.has(name) ? reader.boolean(name, false) : null);

  const addedTokensDecoder = new Map<number, TokenSpec>();
  const decoder = reader.object('added_tokens_decoder');
  if (decoder) {
    for (const [key, value] of Object.entries(decoder.json)) {
      const id = Number(key);
      if (!Number.isSafeInteger(id) || id < 0) decoder.fail(key, 'a key that is a non-negative integer token id', key);
      addedTokensDecoder.set(id, readTokenSpec(value, decoder, key, false));
    }
  }

  let modelMaxLength: number | null = null;
  if (reader.has('model_max_length')) {
    const value = reader.number('model_max_length', 0, { min: 1 });
    modelMaxLength = value >= UNLIMITED_MODEL_MAX_LENGTH ? null : Math.floor(value);
  }

  const additional = [
    ...readTokenList(reader, 'additional_special_tokens'),
    ...(Array.isArray(reader.json['extra_special_tokens']) ? readTokenList(reader, 'extra_special_tokens') : []),
  ];
  if (additional.length === 0 && mapReader) additional.push(...readTokenList(mapReader, 'additional_special_tokens'));

  return {
    tokenizerClass,
    bosToken: readNamedToken(reader, mapReader, 'bos_token'),
    eosToken: readNamedToken(reader, mapReader, 'eos_token'),
    unkToken: readNamedToken(reader, mapReader, 'unk_token'),
    padToken: readNamedToken(reader, mapReader, 'pad_token'),
    addBosToken: optionalBoolean('add_bos_token'),
    addEosToken: optionalBoolean('add_eos_token'),
    cleanUpTokenizationSpaces: reader.boolean('clean_up_tokenization_spaces', false),
    legacy: optionalBoolean('legacy'),
    paddingSide: reader.oneOf('padding_side', ['left', 'right'] as const, isLlama ? 'left' : 'right'),
    modelMaxLength,
    chatTemplate: readChatTemplate(reader),
    additionalSpecialTokens: additional,
    addedTokensDecoder,
    raw: json,
  };
}

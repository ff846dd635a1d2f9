import { VideoLlavaError, describeValue } from '@video-llava/core';
import type { TokenizerConfig, TokenSpec } from './tokenizer-config.js';

type Json = Record<string, unknown>;

/** One entry of `tokenizer.json`'s `added_tokens`. */
export interface RawAddedToken {
  id: number;
  content: string;
  special: boolean;
  lstrip: boolean;
  rstrip: boolean;
  single_word: boolean;
  normalized: boolean;
}

/** A `tokenizer.json` made ready for the backend, and what was learned while doing so. */
export interface PreparedTokenizerJson {
  /** The JSON to build the backend from (a copy; the input is not modified). */
  json: Json;
  /** The added tokens, by id. */
  addedTokens: Map<number, RawAddedToken>;
  /** The `model.vocab` as a map (BPE), for token lookups. */
  vocabulary: Map<string, number>;
}

function invalid(file: string, field: string, expected: string, actual: unknown): never {
  throw new VideoLlavaError(
    'INVALID_CONFIG',
    `${file}: field "${field}" should be ${expected}, found ${describeValue(actual)}.`,
    {
      file,
      field,
      expected,
      actual,
    },
  );
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readAddedTokens(json: Json, file: string): RawAddedToken[] {
  const value = json['added_tokens'] ?? [];
  if (!Array.isArray(value)) invalid(file, 'added_tokens', 'a list', value);
  return value.map((item, index) => {
    if (
      !isObject(item) ||
      typeof item['content'] !== 'string' ||
      typeof item['id'] !== 'number' ||
      !Number.isSafeInteger(item['id']) ||
      item['id'] < 0
    ) {
      invalid(
        file,
        `added_tokens[${index}]`,
        'an object with a non-negative integer "id" and a string "content"',
        item,
      );
    }
    return {
      id: item['id'] as number,
      content: item['content'] as string,
      special: item['special'] === true,
      lstrip: item['lstrip'] === true,
      rstrip: item['rstrip'] === true,
      single_word: item['single_word'] === true,
      normalized: item['normalized'] === true,
    };
  });
}

function readVocabulary(model: Json, file: string): Map<string, number> {
  const vocab = model['vocab'];
  const map = new Map<string, number>();
  if (isObject(vocab)) {
    for (const [token, id] of Object.entries(vocab)) {
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0)
        invalid(file, `model.vocab[${JSON.stringify(token)}]`, 'a non-negative integer id', id);
      map.set(token, id);
    }
  } else if (Array.isArray(vocab)) {
    // Unigram: [[piece, score], ...]; the id is the position.
    vocab.forEach((entry, id) => {
      const token = Array.isArray(entry) ? entry[0] : entry;
      if (typeof token === 'string') map.set(token, id);
    });
  } else {
    invalid(file, 'model.vocab', 'an object of token to id (or a Unigram list)', vocab);
  }
  return map;
}

function toAddedToken(spec: TokenSpec, id: number): RawAddedToken {
  return {
    id,
    content: spec.content,
    special: spec.special,
    lstrip: spec.lstrip,
    rstrip: spec.rstrip,
    single_word: spec.singleWord,
    normalized: spec.normalized,
  };
}

function templateProcessing(
  config: TokenizerConfig,
  addedByContent: Map<string, RawAddedToken>,
  vocabulary: Map<string, number>,
): Json {
  // transformers' TokenizersBackend.update_post_processor: "<bos>:0 $A:0 <eos>:0" from add_bos_token / add_eos_token.
  const addBos = config.addBosToken === true && config.bosToken !== null;
  const addEos = config.addEosToken === true && config.eosToken !== null;
  const special = (content: string, typeId: number): Json => ({ SpecialToken: { id: content, type_id: typeId } });
  const sequence = (id: 'A' | 'B', typeId: number): Json => ({ Sequence: { id, type_id: typeId } });
  const build = (typeId: number, id: 'A' | 'B'): Json[] => [
    ...(addBos ? [special(config.bosToken!, typeId)] : []),
    sequence(id, typeId),
    ...(addEos ? [special(config.eosToken!, typeId)] : []),
  ];
  const specialTokens: Json = {};
  for (const content of [addBos ? config.bosToken! : null, addEos ? config.eosToken! : null]) {
    if (content === null) continue;
    const id = addedByContent.get(content)?.id ?? vocabulary.get(content);
    if (id !== undefined) specialTokens[content] = { id: content, ids: [id], tokens: [content] };
  }
  return {
    type: 'TemplateProcessing',
    single: build(0, 'A'),
    pair: [...build(0, 'A'), ...build(1, 'B')],
    special_tokens: specialTokens,
  };
}

function isPrependReplaceNormalizer(normalizer: unknown): boolean {
  // The pre-0.19 LLaMA layout: normalizer Sequence [Prepend("▁"), Replace(" ", "▁")], no pre-tokenizer.
  if (!isObject(normalizer) || normalizer['type'] !== 'Sequence' || !Array.isArray(normalizer['normalizers']))
    return false;
  const [prepend, replace, ...rest] = normalizer['normalizers'] as unknown[];
  return (
    rest.length === 0 &&
    isObject(prepend) &&
    prepend['type'] === 'Prepend' &&
    prepend['prepend'] === '\u2581' &&
    isObject(replace) &&
    replace['type'] === 'Replace' &&
    isObject(replace['pattern']) &&
    (replace['pattern'] as Json)['String'] === ' ' &&
    replace['content'] === '\u2581'
  );
}

/**
 * Applies what `tokenizer_config.json` says on top of `tokenizer.json`, as transformers' `TokenizersBackend` does:
 * - tokens in `added_tokens_decoder`, `additional_special_tokens` and the named special tokens that the file lacks are
 *   added (a named token that is in neither the vocabulary nor `added_tokens` gets the next free id);
 * - an explicit `add_bos_token` / `add_eos_token` rebuilds the post-processor (`<s> $A </s>` template);
 * - `legacy: false` on a LLaMA tokenizer adds the SentencePiece "▁" only at the very start of the text instead of
 *   after every special token (the pre-0.19 normalizer layout is rewritten to the equivalent Metaspace first).
 *
 * @param tokenizerJson the parsed `tokenizer.json`
 * @param config the parsed `tokenizer_config.json`
 * @param file the file name for error messages
 * @param legacy overrides `config.legacy`
 * @throws VideoLlavaError `INVALID_CONFIG` for a file that is not a Hugging Face tokenizer; `UNSUPPORTED` for models other than BPE
 */
export function prepareTokenizerJson(
  tokenizerJson: unknown,
  config: TokenizerConfig,
  file = 'tokenizer.json',
  legacy: boolean | null = config.legacy,
): PreparedTokenizerJson {
  if (!isObject(tokenizerJson)) invalid(file, '(root)', 'a JSON object', tokenizerJson);
  const model = tokenizerJson['model'];
  if (!isObject(model)) invalid(file, 'model', 'an object', model);
  const modelType = model['type'] ?? (model['merges'] !== undefined ? 'BPE' : undefined);
  if (modelType !== 'BPE') {
    throw new VideoLlavaError(
      'UNSUPPORTED',
      `${file}: model type ${describeValue(modelType)} is not supported; Video-LLaVA's LLaMA tokenizer is "BPE".`,
      {
        file,
        field: 'model.type',
        expected: 'BPE',
        actual: modelType,
      },
    );
  }
  if (!Array.isArray(model['merges'])) invalid(file, 'model.merges', 'a list of merges', model['merges']);
  for (const name of ['unk_token', 'continuing_subword_prefix', 'end_of_word_suffix']) {
    const value = model[name];
    if (value !== undefined && value !== null && typeof value !== 'string')
      invalid(file, `model.${name}`, 'a string or null', value);
  }
  const vocabulary = readVocabulary(model, file);
  const added = readAddedTokens(tokenizerJson, file);
  const addedById = new Map(added.map((token) => [token.id, token]));
  const addedByContent = new Map(added.map((token) => [token.content, token]));
  let nextId = vocabulary.size;
  for (const id of vocabulary.values()) nextId = Math.max(nextId, id + 1);
  for (const token of added) nextId = Math.max(nextId, token.id + 1);

  const addToken = (token: RawAddedToken): void => {
    added.push(token);
    addedById.set(token.id, token);
    addedByContent.set(token.content, token);
    nextId = Math.max(nextId, token.id + 1);
  };
  for (const [id, spec] of config.addedTokensDecoder) {
    if (!addedById.has(id) && !addedByContent.has(spec.content)) addToken(toAddedToken(spec, id));
  }
  const named = [config.bosToken, config.eosToken, config.unkToken, config.padToken].filter(
    (content): content is string => content !== null,
  );
  const specials: TokenSpec[] = [
    ...named.map((content) => ({
      content,
      special: true,
      lstrip: false,
      rstrip: false,
      singleWord: false,
      normalized: false,
    })),
    ...config.additionalSpecialTokens,
  ];
  for (const spec of specials) {
    const existing = addedByContent.get(spec.content);
    if (existing) {
      existing.special = true;
      continue;
    }
    addToken(toAddedToken({ ...spec, special: true }, vocabulary.get(spec.content) ?? nextId));
  }

  const json: Json = { ...tokenizerJson, added_tokens: added.map((token) => ({ ...token })) };
  if (config.addBosToken !== null || config.addEosToken !== null)
    json['post_processor'] = templateProcessing(config, addedByContent, vocabulary);

  const isLlama = config.tokenizerClass === null || /^(Code)?Llama/.test(config.tokenizerClass);
  if (legacy === false && isLlama) {
    if (
      isPrependReplaceNormalizer(json['normalizer']) &&
      (json['pre_tokenizer'] === null || json['pre_tokenizer'] === undefined)
    ) {
      json['normalizer'] = null;
      json['pre_tokenizer'] = { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: false };
    } else if (isObject(json['pre_tokenizer']) && json['pre_tokenizer']['type'] === 'Metaspace') {
      const preTokenizer = json['pre_tokenizer'];
      const prepends =
        preTokenizer['prepend_scheme'] === 'always' ||
        (preTokenizer['prepend_scheme'] === undefined && preTokenizer['add_prefix_space'] !== false);
      if (prepends) json['pre_tokenizer'] = { ...preTokenizer, prepend_scheme: 'first' };
    }
  }
  return { json, addedTokens: addedById, vocabulary };
}

import type { ChatContentPart, ChatMessage, GenerationOptions } from 'video-llava';
import { type HttpError, invalidRequest } from './openai-error.js';
import type { MediaReference } from './media-source.js';

/** A chat completion request, checked and mapped onto the library's terms. */
export interface ChatCompletionRequest {
  /** The `model` field as sent (any name is accepted: the server serves one model). */
  model: string | undefined;
  /** The messages with a `{type: 'video'}` / `{type: 'image'}` placeholder where each media part was. */
  messages: ChatMessage[];
  /** The videos, in the order of their placeholders. */
  videos: MediaReference[];
  /** The images, in the order of their placeholders. */
  images: MediaReference[];
  stream: boolean;
  /** `stream_options.include_usage`. */
  includeUsage: boolean;
  /** Choices to return. */
  n: number;
  /** OpenAI's `stop`: the text ends before the first of these. */
  stop: string[];
  /** `max_completion_tokens` (or `max_tokens`), when given. */
  maxTokens: number | undefined;
  /** The library's decoding options for what the request asked. */
  generation: GenerationOptions;
}

/** Limits the request is checked against. */
export interface ChatRequestLimits {
  /** The most choices (`n`). */
  maxChoices: number;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function wrongType(param: string, expected: string, value: unknown): HttpError {
  return invalidRequest(`${param} must be ${expected}, found ${typeName(value)}.`, param, 'invalid_type');
}

function outOfRange(param: string, expected: string, value: unknown): HttpError {
  return invalidRequest(`${param} must be ${expected}, found ${JSON.stringify(value)}.`, param, 'invalid_value');
}

function unsupported(param: string, why: string): HttpError {
  return invalidRequest(`${param} is not supported by this server: ${why}`, param, 'unsupported_parameter');
}

type Body = Record<string, unknown>;

/** A field that is absent or null counts as not given, as in OpenAI's API. */
function given(body: Body, key: string): boolean {
  return body[key] !== undefined && body[key] !== null;
}

function optionalNumber(
  body: Body,
  key: string,
  check: (value: number) => boolean,
  expected: string,
  integer = false,
): number | undefined {
  if (!given(body, key)) return undefined;
  const value = body[key];
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw wrongType(key, integer ? 'an integer' : 'a number', value);
  if ((integer && !Number.isInteger(value)) || !check(value)) throw outOfRange(key, expected, value);
  return value;
}

function optionalBoolean(body: Body, key: string): boolean | undefined {
  if (!given(body, key)) return undefined;
  if (typeof body[key] !== 'boolean') throw wrongType(key, 'a boolean', body[key]);
  return body[key] as boolean;
}

function mediaUrl(part: Body, key: string, param: string): { url: string; param: string } {
  const value = part[key];
  if (typeof value === 'string') return { url: value, param };
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw wrongType(param, `an object {"url": ...}`, value);
  const url = (value as Body).url;
  if (typeof url !== 'string') throw wrongType(`${param}.url`, 'a string', url);
  if (url === '') throw outOfRange(`${param}.url`, 'a data: URL, a path or a file: URL', url);
  return { url, param: `${param}.url` };
}

function parseMessages(value: unknown, media: { videos: MediaReference[]; images: MediaReference[] }): ChatMessage[] {
  if (value === undefined || value === null)
    throw invalidRequest(
      'messages is required: a non-empty array of {role, content}.',
      'messages',
      'missing_required_parameter',
    );
  if (!Array.isArray(value)) throw wrongType('messages', 'an array', value);
  if (value.length === 0) throw outOfRange('messages', 'a non-empty array', value);
  return value.map((raw, index): ChatMessage => {
    const param = `messages[${index}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw wrongType(param, 'an object {role, content}', raw);
    const message = raw as Body;
    let role = message.role;
    if (typeof role !== 'string') throw wrongType(`${param}.role`, 'a string', role);
    if (role === 'developer') role = 'system';
    if (role !== 'system' && role !== 'user' && role !== 'assistant')
      throw outOfRange(`${param}.role`, '"system", "developer", "user" or "assistant" (tools are not supported)', role);
    if (role === 'assistant' && Array.isArray(message.tool_calls) && message.tool_calls.length > 0)
      throw unsupported(`${param}.tool_calls`, 'this model has no tools.');
    const content = message.content;
    if (typeof content === 'string') return { role, content };
    if (!Array.isArray(content)) throw wrongType(`${param}.content`, 'a string or an array of content parts', content);
    const parts = content.map((rawPart, partIndex): ChatContentPart => {
      const partParam = `${param}.content[${partIndex}]`;
      if (typeof rawPart !== 'object' || rawPart === null || Array.isArray(rawPart))
        throw wrongType(partParam, 'an object {type, ...}', rawPart);
      const part = rawPart as Body;
      const type = part.type;
      if (typeof type !== 'string') throw wrongType(`${partParam}.type`, 'a string', type);
      switch (type) {
        case 'text':
          if (typeof part.text !== 'string') throw wrongType(`${partParam}.text`, 'a string', part.text);
          return { type: 'text', text: part.text };
        case 'image_url':
        case 'video_url':
        case 'input_video': {
          const kind = type === 'image_url' ? 'image' : 'video';
          if (role !== 'user')
            throw invalidRequest(
              `${partParam}: only user messages may hold images and videos, found one in a ${role} message.`,
              `${partParam}.type`,
              'invalid_value',
            );
          // input_video (an alias) takes its URL from `input_video` or, as vLLM's clients send it, `video_url`.
          const key = type === 'input_video' && part.input_video === undefined ? 'video_url' : type;
          const { url, param: urlParam } = mediaUrl(part, key, `${partParam}.${key}`);
          (kind === 'image' ? media.images : media.videos).push({ kind, url, param: urlParam });
          return { type: kind };
        }
        default:
          throw outOfRange(`${partParam}.type`, '"text", "image_url", "video_url" or "input_video"', type);
      }
    });
    return { role, content: parts };
  });
}

function parseStop(body: Body): string[] {
  if (!given(body, 'stop')) return [];
  const value = body.stop;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) throw wrongType('stop', 'a string or an array of strings', value);
  if (list.length > 4) throw outOfRange('stop', 'at most 4 strings', list.length);
  list.forEach((item, index) => {
    if (typeof item !== 'string') throw wrongType(`stop[${index}]`, 'a string', item);
    if (item === '') throw outOfRange(`stop[${index}]`, 'a non-empty string', item);
  });
  return list as string[];
}

/** Fields the library cannot honour: refused when set to anything but their neutral value. */
function refuseUnsupported(body: Body): void {
  for (const key of ['frequency_penalty', 'presence_penalty']) {
    const value = optionalNumber(body, key, (number) => number >= -2 && number <= 2, 'a number from -2 to 2');
    if (value !== undefined && value !== 0) {
      throw unsupported(
        key,
        `@video-llava/generation has no additive ${key.replace('_', ' ')} (repetition_penalty, a multiplicative one as in transformers, is supported).`,
      );
    }
  }
  if (given(body, 'logit_bias')) {
    if (typeof body.logit_bias !== 'object' || Array.isArray(body.logit_bias))
      throw wrongType('logit_bias', 'an object', body.logit_bias);
    if (Object.keys(body.logit_bias as Body).length > 0)
      throw unsupported('logit_bias', 'token biases are not implemented.');
  }
  if (optionalBoolean(body, 'logprobs') === true) throw unsupported('logprobs', 'log probabilities are not returned.');
  if (optionalNumber(body, 'top_logprobs', (number) => number >= 0 && number <= 20, 'an integer from 0 to 20', true))
    throw unsupported('top_logprobs', 'log probabilities are not returned.');
  if (given(body, 'tools')) {
    if (!Array.isArray(body.tools)) throw wrongType('tools', 'an array', body.tools);
    if (body.tools.length > 0) throw unsupported('tools', 'this model has no tools.');
  }
  if (given(body, 'response_format')) {
    const format = body.response_format;
    if (typeof format !== 'object' || format === null || Array.isArray(format))
      throw wrongType('response_format', 'an object {type}', format);
    if ((format as Body).type !== 'text')
      throw unsupported('response_format', `only {"type": "text"} is, found ${JSON.stringify((format as Body).type)}.`);
  }
}

/**
 * Checks a `POST /v1/chat/completions` body and maps it onto the library: `temperature` 0 is greedy, above 0
 * samples; `top_p`, `seed`, `stop`, `n`, `max_completion_tokens` / `max_tokens` map to their generation options,
 * as do vLLM's `top_k`, `min_p` and `repetition_penalty`. Fields the library cannot honour (a non-zero
 * `frequency_penalty`, `logprobs`, tools, ...) are refused naming the field; unknown fields are ignored, as OpenAI does.
 *
 * @param checkpoint what the checkpoint's generation_config.json says: whether it samples when `temperature` is not
 *   given (`do_sample`), and whether it sets `top_k` (else sampling uses none, as OpenAI's API has none)
 * @throws HttpError 400 naming the field
 */
export function parseChatRequest(
  raw: unknown,
  limits: ChatRequestLimits,
  checkpoint: { doSample: boolean; setsTopK: boolean },
): ChatCompletionRequest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw invalidRequest(`The body must be a JSON object, found ${typeName(raw)}.`, null, 'invalid_type');
  const body = raw as Body;
  if (given(body, 'model') && typeof body.model !== 'string') throw wrongType('model', 'a string', body.model);
  const media = { videos: [] as MediaReference[], images: [] as MediaReference[] };
  const messages = parseMessages(body.messages, media);
  const stream = optionalBoolean(body, 'stream') ?? false;
  let includeUsage = false;
  if (given(body, 'stream_options')) {
    const options = body.stream_options;
    if (typeof options !== 'object' || Array.isArray(options)) throw wrongType('stream_options', 'an object', options);
    if (!stream)
      throw invalidRequest('stream_options is only allowed with "stream": true.', 'stream_options', 'invalid_value');
    includeUsage = optionalBoolean(options as Body, 'include_usage') ?? false;
  }
  const n =
    optionalNumber(
      body,
      'n',
      (value) => value >= 1 && value <= limits.maxChoices,
      `an integer from 1 to ${limits.maxChoices}`,
      true,
    ) ?? 1;
  const maxCompletionTokens = optionalNumber(
    body,
    'max_completion_tokens',
    (value) => value >= 1,
    'an integer >= 1',
    true,
  );
  const maxTokens = optionalNumber(body, 'max_tokens', (value) => value >= 1, 'an integer >= 1', true);
  const temperature = optionalNumber(body, 'temperature', (value) => value >= 0 && value <= 2, 'a number from 0 to 2');
  const topP = optionalNumber(body, 'top_p', (value) => value > 0 && value <= 1, 'a number in (0, 1]');
  const seed = optionalNumber(
    body,
    'seed',
    (value) => Number.isSafeInteger(value) && value >= 0,
    'an integer >= 0',
    true,
  );
  const topK = optionalNumber(body, 'top_k', (value) => value >= -1, 'an integer >= -1 (-1 or 0: off)', true);
  const minP = optionalNumber(body, 'min_p', (value) => value >= 0 && value <= 1, 'a number from 0 to 1');
  const repetitionPenalty = optionalNumber(body, 'repetition_penalty', (value) => value > 0, 'a number > 0');
  const stop = parseStop(body);
  refuseUnsupported(body);
  optionalBoolean(body, 'parallel_tool_calls');
  if (given(body, 'user') && typeof body.user !== 'string') throw wrongType('user', 'a string', body.user);

  const sample = temperature === undefined ? checkpoint.doSample : temperature > 0;
  const limit = maxCompletionTokens ?? maxTokens;
  const generation: GenerationOptions = {
    ...(limit === undefined ? {} : { maxNewTokens: limit }),
    doSample: sample,
    ...(sample && temperature !== undefined ? { temperature } : {}),
    ...(topP === undefined ? {} : { topP }),
    // OpenAI's sampling has no top-k: without one in the request or the checkpoint, none is applied (rather than
    // transformers' default of 50).
    ...(topK !== undefined ? { topK: Math.max(0, topK) } : sample && !checkpoint.setsTopK ? { topK: 0 } : {}),
    ...(minP === undefined ? {} : { minP }),
    ...(repetitionPenalty === undefined ? {} : { repetitionPenalty }),
    ...(seed === undefined ? {} : { seed }),
    ...(stop.length > 0 ? { stopStrings: stop } : {}),
    ...(sample && n > 1 ? { numReturnSequences: n } : {}),
  };
  return {
    model: typeof body.model === 'string' ? body.model : undefined,
    messages,
    videos: media.videos,
    images: media.images,
    stream,
    includeUsage,
    n,
    stop,
    maxTokens: limit,
    generation,
  };
}

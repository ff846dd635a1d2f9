import { copyFileSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { temporaryFolders } from '@video-llava/test-utils';
import OpenAI from 'openai';
import type { VideoLlava } from 'video-llava';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataUrl, fixtureImage, fixtureVideo, loadFixtureModel } from '../test/fixture-model.js';
import { type MediaFileSystem, nodeMediaFileSystem } from './media-root.js';
import {
  type RequestLogLine,
  type VideoLlavaServer,
  type VideoLlavaServerOptions,
  createVideoLlavaServer,
} from './video-llava-server.js';

// The real server on 127.0.0.1 (random port) with the fp32 conversion of the tiny fixture, called through the official
// openai client and plain fetch. Every answer is compared with VideoLlava's own greedy generation of the same prompt.
const QUESTION = 'Why is this funny?';
const MAX_TOKENS = 8;
const folders = temporaryFolders('server-test-');
let model: VideoLlava;
let mediaRoot: string;
let outside: string;
const servers: VideoLlavaServer[] = [];

const references = new Map<string, ReturnType<VideoLlava['generate']>>();

/** The library's greedy answer to one question about the fixture video (no prefix cache, so nothing carries over). */
function referenceAnswer(question = QUESTION, maxNewTokens = MAX_TOKENS): ReturnType<VideoLlava['generate']> {
  const key = `${maxNewTokens} ${question}`;
  if (!references.has(key))
    references.set(
      key,
      model.generate({
        messages: [{ role: 'user', content: [{ type: 'video' }, { type: 'text', text: question }] }],
        videos: [fixtureVideo],
        maxNewTokens,
        doSample: false,
        prefixCache: false,
      }),
    );
  return references.get(key)!;
}

async function start(
  options: Partial<VideoLlavaServerOptions> = {},
): Promise<{ server: VideoLlavaServer; url: string; client: OpenAI; logs: RequestLogLine[] }> {
  const logs: RequestLogLine[] = [];
  const server = await createVideoLlavaServer({
    model,
    port: 0,
    mediaRoot,
    log: (line) => logs.push(line),
    ...options,
  });
  servers.push(server);
  const url = await server.listen();
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: options.apiKey ?? 'unused', maxRetries: 0 });
  return { server, url, client, logs };
}

function videoMessage(
  url: string,
  question = QUESTION,
  type: 'video_url' | 'input_video' = 'video_url',
): OpenAI.ChatCompletionMessageParam {
  const part = type === 'video_url' ? { type, video_url: { url } } : { type, input_video: { url } };
  return {
    role: 'user',
    content: [part, { type: 'text', text: question }] as unknown as OpenAI.ChatCompletionContentPart[],
  };
}

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any; headers: Headers }> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json, headers: response.headers };
}

function expectOpenAiError(
  result: { status: number; json: any },
  status: number,
  param: string | null,
  code?: string,
): void {
  expect(result.status, JSON.stringify(result.json)).toBe(status);
  expect(Object.keys(result.json.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(result.json.error.message).toBeTypeOf('string');
  expect(result.json.error.param).toBe(param);
  if (code !== undefined) expect(result.json.error.code).toBe(code);
}

beforeAll(async () => {
  model = await loadFixtureModel();
  const root = await folders.folder();
  mediaRoot = join(root, 'media');
  mkdirSync(join(mediaRoot, 'clips'), { recursive: true });
  copyFileSync(fixtureVideo, join(mediaRoot, 'clips', 'clip.mp4'));
  copyFileSync(fixtureImage, join(mediaRoot, 'picture.png'));
  // A file outside the root that would decode fine, and a link inside the root leading to it.
  outside = join(root, 'outside.mp4');
  copyFileSync(fixtureVideo, outside);
  symlinkSync(outside, join(mediaRoot, 'escape.mp4'));
  symlinkSync(root, join(mediaRoot, 'parent'));
});

afterAll(async () => {
  for (const server of servers) await server.close();
  await model?.release();
  await folders.removeAll();
});

describe('chat completions about the fixture video', () => {
  let url: string;
  let client: OpenAI;
  let logs: RequestLogLine[];
  beforeAll(async () => {
    ({ url, client, logs } = await start());
  });

  it('non-streamed, video as a data URL: exactly the library greedy text, with usage', async () => {
    const reference = await referenceAnswer();
    const completion = await client.chat.completions.create({
      model: 'anything',
      messages: [videoMessage(dataUrl(fixtureVideo, 'video/mp4'))],
      temperature: 0,
      max_tokens: MAX_TOKENS,
    });
    expect(reference.text.length).toBeGreaterThan(0);
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]!.message.content).toBe(reference.text);
    expect(completion.choices[0]!.message.role).toBe('assistant');
    expect(completion.choices[0]!.finish_reason).toBe('length');
    expect(completion.usage).toEqual({
      prompt_tokens: reference.promptTokens,
      completion_tokens: reference.ids.length,
      total_tokens: reference.promptTokens + reference.ids.length,
    });
    expect(reference.promptTokens).toBeGreaterThan(2056); // the video's 2056 tokens and the question
  });

  it('streamed, video as a media-root path: the same text in deltas, usage in the last chunk', async () => {
    const reference = await referenceAnswer();
    const stream = await client.chat.completions.create({
      model: 'x',
      messages: [videoMessage('clips/clip.mp4')],
      temperature: 0,
      max_completion_tokens: MAX_TOKENS,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(reference.text);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk' && chunk.id === chunks[0]!.id)).toBe(true);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({
      prompt_tokens: reference.promptTokens,
      completion_tokens: reference.ids.length,
      total_tokens: reference.promptTokens + reference.ids.length,
    });
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('length');
    // Before the last chunk, usage is null (as OpenAI sends it with include_usage).
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
  });

  it('ends the event stream with data: [DONE] (raw SSE), a file: URL and input_video naming the same clip', async () => {
    const reference = await referenceAnswer();
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        messages: [videoMessage(`file://${join(mediaRoot, 'clips', 'clip.mp4')}`, QUESTION, 'input_video')],
        temperature: 0,
        max_tokens: MAX_TOKENS,
        stream: true,
      }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const body = await response.text();
    const events = body.split('\n\n').filter((event) => event !== '');
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event.replace(/^data: /, '')));
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(reference.text);
    expect(chunks.some((chunk) => 'usage' in chunk)).toBe(false);
  });

  it('answers about an image (data URL and media-root path) as the library does', async () => {
    const reference = await model.generate({
      messages: [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'What is it?' }] }],
      images: [fixtureImage],
      maxNewTokens: 6,
      doSample: false,
      prefixCache: false,
    });
    for (const imageUrl of [dataUrl(fixtureImage, 'image/png'), 'picture.png']) {
      const completion = await client.chat.completions.create({
        model: 'x',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: imageUrl } },
              { type: 'text', text: 'What is it?' },
            ],
          },
        ],
        temperature: 0,
        max_tokens: 6,
      });
      expect(completion.choices[0]!.message.content).toBe(reference.text);
    }
  });

  it('n greedy choices are the greedy answer n times; usage counts them all', async () => {
    const reference = await referenceAnswer();
    const completion = await client.chat.completions.create({
      model: 'x',
      messages: [videoMessage('clips/clip.mp4')],
      temperature: 0,
      max_tokens: MAX_TOKENS,
      n: 2,
    });
    expect(completion.choices.map((choice) => [choice.index, choice.message.content])).toEqual([
      [0, reference.text],
      [1, reference.text],
    ]);
    expect(completion.usage!.completion_tokens).toBe(2 * reference.ids.length);
  });

  it('samples n choices with a seed as the library does with the same seed (and again the same)', async () => {
    const reference = await model.generate({
      messages: [{ role: 'user', content: [{ type: 'video' }, { type: 'text', text: QUESTION }] }],
      videos: [fixtureVideo],
      maxNewTokens: 6,
      doSample: true,
      temperature: 1.5,
      topP: 0.9,
      topK: 0,
      seed: 11,
      numReturnSequences: 2,
      prefixCache: false,
    });
    const request = {
      model: 'x',
      messages: [videoMessage('clips/clip.mp4')],
      temperature: 1.5,
      top_p: 0.9,
      seed: 11,
      n: 2,
      max_tokens: 6,
    };
    const first = await client.chat.completions.create(request);
    const second = await client.chat.completions.create({ ...request, stream: true });
    const streamed = ['', ''];
    for await (const chunk of second)
      for (const choice of chunk.choices) streamed[choice.index] += choice.delta.content ?? '';
    expect(first.choices.map((choice) => choice.message.content)).toEqual(
      reference.sequences.map((sequence) => sequence.text),
    );
    expect(streamed).toEqual(reference.sequences.map((sequence) => sequence.text));
  });

  it('stop: the text ends before the stop string, streamed and not, finish_reason stop', async () => {
    const reference = await referenceAnswer();
    const words = reference.text.split(' ');
    expect(words.length).toBeGreaterThan(2);
    const stop = ` ${words[2]}`;
    const expected = reference.text.slice(0, reference.text.indexOf(stop));
    const completion = await client.chat.completions.create({
      model: 'x',
      messages: [videoMessage('clips/clip.mp4')],
      temperature: 0,
      max_tokens: MAX_TOKENS,
      stop: [stop, 'never in it'],
    });
    expect(completion.choices[0]!.message.content).toBe(expected);
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    const stream = await client.chat.completions.create({
      model: 'x',
      messages: [videoMessage('clips/clip.mp4')],
      temperature: 0,
      max_tokens: MAX_TOKENS,
      stop,
      stream: true,
    });
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe(expected);
    expect(finish).toBe('stop');
  });

  it('a follow-up with the earlier assistant turn about the same video reuses the cached prefix and answers as the library does', async () => {
    const first = await client.chat.completions.create({
      model: 'x',
      messages: [videoMessage('clips/clip.mp4')],
      temperature: 0,
      max_tokens: MAX_TOKENS,
    });
    const answer = first.choices[0]!.message.content!;
    const conversation = [
      { role: 'user' as const, content: [{ type: 'video' as const }, { type: 'text' as const, text: QUESTION }] },
      { role: 'assistant' as const, content: answer },
      { role: 'user' as const, content: 'And then?' },
    ];
    const before = { ...model.model.statistics };
    const followUp = await client.chat.completions.create({
      model: 'x',
      messages: [
        videoMessage('clips/clip.mp4'),
        { role: 'assistant', content: answer },
        { role: 'user', content: 'And then?' },
      ],
      temperature: 0,
      max_tokens: MAX_TOKENS,
    });
    const after = { ...model.model.statistics };
    // The video was not encoded again, and the prompt's video part came from the cache.
    expect(after.videoEncoderRuns).toBe(before.videoEncoderRuns);
    expect(after.reusedPrefixTokens - before.reusedPrefixTokens).toBeGreaterThan(2056);
    const reference = await model.generate({
      messages: conversation,
      videos: [fixtureVideo],
      maxNewTokens: MAX_TOKENS,
      doSample: false,
      prefixCache: false,
    });
    expect(followUp.choices[0]!.message.content).toBe(reference.text);
    expect(followUp.usage!.prompt_tokens).toBe(reference.promptTokens);
  });

  it('lists the model, reports health, and writes one log line per request', async () => {
    const models = await client.models.list();
    expect(models.data.map((entry) => entry.id)).toEqual(['video-llava']);
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', model: 'video-llava' });
    const chat = logs.filter((line) => line.path === '/v1/chat/completions' && line.status === 200);
    expect(chat.length).toBeGreaterThan(5);
    for (const line of chat) {
      expect(line).toMatchObject({ method: 'POST', status: 200 });
      expect(line.durationMs).toBeGreaterThan(0);
      expect(line.promptTokens).toBeGreaterThan(0);
      expect(line.completionTokens).toBeGreaterThan(0);
    }
    expect(logs.some((line) => line.path === '/v1/models' && line.status === 200)).toBe(true);
  });

  it('exposes Prometheus metrics: queue length, requests by status, tokens, time-to-first-token and per-token histograms', async () => {
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/^video_llava_queue_length 0$/m);
    expect(text).toMatch(
      /^video_llava_http_requests_total\{method="POST",route="\/v1\/chat\/completions",status="200"\} [1-9]\d*$/m,
    );
    const generated = Number(/^video_llava_generated_tokens_total (\d+)$/m.exec(text)?.[1]);
    expect(generated).toBeGreaterThan(0);
    expect(text).toMatch(/^video_llava_time_to_first_token_seconds_count [1-9]\d*$/m);
    expect(text).toMatch(/^video_llava_time_per_output_token_seconds_count [1-9]\d*$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
  });
});

describe('bad input: a 4xx with an OpenAI-style error, and the server keeps serving', () => {
  let url: string;
  let client: OpenAI;
  const opened: string[] = [];
  const resolved: string[] = [];
  beforeAll(async () => {
    const recording: MediaFileSystem = {
      realpath: (path) => {
        resolved.push(path);
        return nodeMediaFileSystem.realpath(path);
      },
      open: (path, flags) => {
        opened.push(path);
        return nodeMediaFileSystem.open(path, flags);
      },
    };
    ({ url, client } = await start({ mediaFileSystem: recording, bodyLimit: 2 * 1024 * 1024 }));
  });

  const video = (mediaUrl: string) => ({ messages: [videoMessage(mediaUrl)], temperature: 0, max_tokens: 2 });

  it('malformed JSON: 400 invalid_json', async () => {
    expectOpenAiError(await post(url, '{"messages": [', {}), 400, null, 'invalid_json');
  });

  it('a body over the limit: 413', async () => {
    const big = { messages: [videoMessage(`data:video/mp4;base64,${'A'.repeat(3 * 1024 * 1024)}`)] };
    expectOpenAiError(await post(url, big), 413, null, 'request_too_large');
  });

  it.each([
    ['a body that is not an object', [1, 2], null],
    ['messages missing', { temperature: 0 }, 'messages'],
    ['messages not an array', { messages: 'hi' }, 'messages'],
    ['messages empty', { messages: [] }, 'messages'],
    ['a message that is not an object', { messages: ['hi'] }, 'messages[0]'],
    ['an unknown role', { messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].role'],
    ['content of a wrong type', { messages: [{ role: 'user', content: 5 }] }, 'messages[0].content'],
    [
      'a part of an unknown type',
      { messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] },
      'messages[0].content[0].type',
    ],
    [
      'a text part without text',
      { messages: [{ role: 'user', content: [{ type: 'text' }] }] },
      'messages[0].content[0].text',
    ],
    [
      'a video_url without url',
      { messages: [{ role: 'user', content: [{ type: 'video_url', video_url: {} }] }] },
      'messages[0].content[0].video_url.url',
    ],
    [
      'a video in an assistant message',
      { messages: [{ role: 'assistant', content: [{ type: 'video_url', video_url: { url: 'clips/clip.mp4' } }] }] },
      'messages[0].content[0].type',
    ],
    ['temperature as a string', { messages: [{ role: 'user', content: 'hi' }], temperature: '0' }, 'temperature'],
    ['temperature out of range', { messages: [{ role: 'user', content: 'hi' }], temperature: 3 }, 'temperature'],
    ['top_p of 0', { messages: [{ role: 'user', content: 'hi' }], top_p: 0 }, 'top_p'],
    ['max_tokens of 0', { messages: [{ role: 'user', content: 'hi' }], max_tokens: 0 }, 'max_tokens'],
    [
      'max_completion_tokens not an integer',
      { messages: [{ role: 'user', content: 'hi' }], max_completion_tokens: 2.5 },
      'max_completion_tokens',
    ],
    ['n of 0', { messages: [{ role: 'user', content: 'hi' }], n: 0 }, 'n'],
    ['n above the limit', { messages: [{ role: 'user', content: 'hi' }], n: 99 }, 'n'],
    ['seed negative', { messages: [{ role: 'user', content: 'hi' }], seed: -1 }, 'seed'],
    ['stream not a boolean', { messages: [{ role: 'user', content: 'hi' }], stream: 'yes' }, 'stream'],
    [
      'stream_options without stream',
      { messages: [{ role: 'user', content: 'hi' }], stream_options: { include_usage: true } },
      'stream_options',
    ],
    ['stop as a number', { messages: [{ role: 'user', content: 'hi' }], stop: 5 }, 'stop'],
    ['five stop strings', { messages: [{ role: 'user', content: 'hi' }], stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
    ['an empty stop string', { messages: [{ role: 'user', content: 'hi' }], stop: [''] }, 'stop[0]'],
    ['model not a string', { model: 5, messages: [{ role: 'user', content: 'hi' }] }, 'model'],
  ])('%s: 400 naming the field', async (_name, body, param) => {
    expectOpenAiError(await post(url, body), 400, param);
  });

  it.each([
    ['frequency_penalty', { frequency_penalty: 0.5 }],
    ['presence_penalty', { presence_penalty: -1 }],
    ['logit_bias', { logit_bias: { '50': 10 } }],
    ['logprobs', { logprobs: true }],
    ['tools', { tools: [{ type: 'function', function: { name: 'f' } }] }],
    ['response_format', { response_format: { type: 'json_object' } }],
  ])('%s that generation cannot honour: 400 naming it', async (param, extra) => {
    expectOpenAiError(
      await post(url, { messages: [{ role: 'user', content: 'hi' }], ...extra }),
      400,
      param,
      'unsupported_parameter',
    );
  });

  it('neutral values of unsupported fields and unknown fields are accepted, as OpenAI does', async () => {
    const result = await post(url, {
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 2,
      temperature: 0,
      frequency_penalty: 0,
      presence_penalty: 0,
      logit_bias: {},
      logprobs: false,
      user: 'u',
      metadata: { a: 1 },
      some_future_field: true,
    });
    expect(result.status, JSON.stringify(result.json)).toBe(200);
  });

  it('a <video> typed in message text stays text (issue 13): answered, not taken as a place for a missing video', async () => {
    const typedBesideVideo = await post(url, {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'video_url', video_url: { url: 'clips/clip.mp4' } },
            { type: 'text', text: '<video> and <video>?' },
          ],
        },
      ],
      max_tokens: 2,
    });
    expect(typedBesideVideo.status, JSON.stringify(typedBesideVideo.json)).toBe(200);
    // One video's 2056 places and the text, not three videos' worth.
    expect(typedBesideVideo.json.usage.prompt_tokens).toBeLessThan(2 * 2056);
    const typedAlone = await post(url, {
      messages: [{ role: 'user', content: 'a <video> without its video' }],
      max_tokens: 2,
    });
    expect(typedAlone.status, JSON.stringify(typedAlone.json)).toBe(200);
    expect(typedAlone.json.usage.prompt_tokens).toBeLessThan(2056);
  });

  it('undecodable media and malformed data URLs: 400 naming the part', async () => {
    const garbage = `data:video/mp4;base64,${Buffer.from('this is not a video at all').toString('base64')}`;
    expectOpenAiError(await post(url, video(garbage)), 400, 'messages[0].content[0].video_url.url');
    const badImage = await post(url, {
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'image_url',
              image_url: { url: `data:image/png;base64,${Buffer.from('not a png').toString('base64')}` },
            },
            { type: 'text', text: 'hi' },
          ],
        },
      ],
    });
    expectOpenAiError(badImage, 400, 'messages[0].content[0].image_url.url');
    expectOpenAiError(
      await post(url, video('data:video/mp4;base64,@@@not base64@@@')),
      400,
      'messages[0].content[0].video_url.url',
      'invalid_data_url',
    );
    expectOpenAiError(
      await post(url, video('data:video/mp4;base64')),
      400,
      'messages[0].content[0].video_url.url',
      'invalid_data_url',
    );
    expectOpenAiError(
      await post(url, video('clips/no-such-clip.mp4')),
      400,
      'messages[0].content[0].video_url.url',
      'media_not_found',
    );
    expectOpenAiError(await post(url, video('clips')), 400, 'messages[0].content[0].video_url.url', 'media_unreadable');
  });

  it('remote media is off unless --allow-remote-media; other schemes are refused', async () => {
    expectOpenAiError(
      await post(url, video('http://127.0.0.1:9/clip.mp4')),
      400,
      'messages[0].content[0].video_url.url',
      'remote_media_disabled',
    );
    expectOpenAiError(
      await post(url, video('ftp://127.0.0.1/clip.mp4')),
      400,
      'messages[0].content[0].video_url.url',
      'invalid_media_url',
    );
  });

  it('paths outside the media root are refused and never opened (.., absolute, links out, encoded separators)', async () => {
    opened.length = 0;
    resolved.length = 0;
    const attempts = [
      '../outside.mp4',
      'clips/../../outside.mp4',
      outside,
      `file://${outside}`,
      'escape.mp4',
      'parent/outside.mp4',
      '..%2Foutside.mp4',
      'clips%2F..%2F..%2Foutside.mp4',
      `file://${mediaRoot}/clips/..%2F..%2Foutside.mp4`,
      `file://${mediaRoot}/%2e%2e/outside.mp4`,
      '/etc/passwd',
    ];
    for (const attempt of attempts) {
      const result = await post(url, video(attempt));
      expect([400, 403], `${attempt}: ${JSON.stringify(result.json)}`).toContain(result.status);
      expect(result.json.error.param).toBe('messages[0].content[0].video_url.url');
      expect(result.json.error.type).toMatch(/invalid_request_error|permission_error/);
    }
    // The links were resolved (by name), but nothing outside the root was opened, and the outside file, which would
    // decode fine, never reached the model.
    expect(opened).toEqual([]);
    expect(resolved.every((path) => path.startsWith(mediaRoot))).toBe(true);
    const escaped = await post(url, video('escape.mp4'));
    expectOpenAiError(escaped, 403, 'messages[0].content[0].video_url.url', 'media_outside_root');
    // The same file inside the root is opened and answered.
    const inside = await post(url, video('clips/clip.mp4'));
    expect(inside.status, JSON.stringify(inside.json)).toBe(200);
    expect(opened).toEqual([join(mediaRoot, 'clips', 'clip.mp4')]);
  });

  it('unknown routes: 404 with an OpenAI-style error; the server still answers afterwards', async () => {
    const response = await fetch(`${url}/v1/nothing`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const completion = await client.chat.completions.create({
      model: 'x',
      messages: [videoMessage('clips/clip.mp4')],
      temperature: 0,
      max_tokens: 2,
    });
    expect(completion.choices[0]!.message.content).toBe((await referenceAnswer(QUESTION, 2)).text);
  });
});

describe('remote media with allowRemoteMedia', () => {
  it('fetches an http URL (a loopback server) and answers as with the file', async () => {
    const files = createServer((request, response) => {
      if (request.url === '/clip.mp4') {
        response.writeHead(200, { 'content-type': 'video/mp4' });
        response.end(readFileSync(fixtureVideo));
      } else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    const port = (files.address() as AddressInfo).port;
    try {
      const { client } = await start({ allowRemoteMedia: true });
      const completion = await client.chat.completions.create({
        model: 'x',
        messages: [videoMessage(`http://127.0.0.1:${port}/clip.mp4`)],
        temperature: 0,
        max_tokens: MAX_TOKENS,
      });
      expect(completion.choices[0]!.message.content).toBe((await referenceAnswer()).text);
      await expect(
        client.chat.completions.create({
          model: 'x',
          messages: [videoMessage(`http://127.0.0.1:${port}/missing.mp4`)],
          max_tokens: 2,
        }),
      ).rejects.toMatchObject({ status: 400, code: 'media_download_failed' });
    } finally {
      await new Promise((resolve) => files.close(resolve));
    }
  });
});

describe('--api-key', () => {
  it('401 without the key or with a wrong one on /v1; /health stays open', async () => {
    const { url, client } = await start({ apiKey: 'sesame' });
    expectOpenAiError(await post(url, { messages: [{ role: 'user', content: 'hi' }] }), 401, null, 'invalid_api_key');
    expectOpenAiError(
      await post(url, { messages: [{ role: 'user', content: 'hi' }] }, { authorization: 'Bearer wrong' }),
      401,
      null,
      'invalid_api_key',
    );
    expect((await fetch(`${url}/v1/models`)).status).toBe(401);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const models = await client.models.list();
    expect(models.data[0]!.id).toBe('video-llava');
    const wrong = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'wrong', maxRetries: 0 });
    await expect(wrong.models.list()).rejects.toMatchObject({ status: 401 });
  });
});

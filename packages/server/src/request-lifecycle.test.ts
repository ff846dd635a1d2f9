import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import type { VideoLlava } from 'video-llava';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataUrl, fixtureVideo, loadFixtureModel } from '../test/fixture-model.js';
import {
  type RequestLogLine,
  type VideoLlavaServer,
  type VideoLlavaServerOptions,
  createVideoLlavaServer,
} from './video-llava-server.js';

// Queueing, cancellation, timeouts and shutdown, on the real server with the tiny fixture model. Long requests are
// made long by their max_tokens, and every wait polls the server's own state (no fixed sleeps decide an outcome).
let model: VideoLlava;
let video: string;
const servers: VideoLlavaServer[] = [];

beforeAll(async () => {
  model = await loadFixtureModel();
  video = dataUrl(fixtureVideo, 'video/mp4');
});

afterAll(async () => {
  for (const server of servers) await server.close();
  await model?.release();
});

async function start(
  options: Partial<VideoLlavaServerOptions> = {},
): Promise<{ server: VideoLlavaServer; url: string; client: OpenAI; logs: RequestLogLine[] }> {
  const logs: RequestLogLine[] = [];
  const server = await createVideoLlavaServer({ model, port: 0, log: (line) => logs.push(line), ...options });
  servers.push(server);
  const url = await server.listen();
  return { server, url, client: new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 }), logs };
}

function body(maxTokens: number, stream = false): Record<string, unknown> {
  return {
    model: 'x',
    messages: [
      {
        role: 'user',
        content: [
          { type: 'video_url', video_url: { url: video } },
          { type: 'text', text: 'Why is this funny?' },
        ],
      },
    ],
    temperature: 0,
    max_tokens: maxTokens,
    stream,
  };
}

async function health(url: string): Promise<{ waiting: number; running: boolean }> {
  return ((await (await fetch(`${url}/health`)).json()) as { queue: { waiting: number; running: boolean } }).queue;
}

async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  for (const start = Date.now(); Date.now() - start < timeoutMs; await sleep(20)) if (await condition()) return;
  throw new Error(`timed out waiting for ${what}`);
}

/** A streamed request read chunk by chunk: resolves `firstChunk` at its first data, `done` with the whole body. */
function streamRequest(
  url: string,
  requestBody: unknown,
  signal?: AbortSignal,
): { firstChunk: Promise<void>; done: Promise<string> } {
  let firstChunk!: () => void;
  const first = new Promise<void>((resolve) => (firstChunk = resolve));
  const done = (async () => {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(requestBody),
      ...(signal ? { signal } : {}),
    });
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      // The first event goes out with the first token: the request is running.
      if (text.includes('\n\n')) firstChunk();
    }
    firstChunk();
    return text;
  })();
  return { firstChunk: first, done };
}

function contentOf(sse: string): string {
  return sse
    .split('\n\n')
    .filter((event) => event.startsWith('data: {'))
    .map((event) => JSON.parse(event.slice(6)) as { choices: { delta: { content?: string } }[] })
    .map((chunk) => chunk.choices[0]?.delta.content ?? '')
    .join('');
}

describe('the bounded queue', () => {
  it('runs one request at a time, refuses past --max-queue with 429 and Retry-After, and frees the place of a client that leaves', async () => {
    const { url, client, logs } = await start({ maxQueue: 1 });
    const runningAbort = new AbortController();
    const running = streamRequest(url, body(1500, true), runningAbort.signal);
    running.done.catch(() => undefined);
    await running.firstChunk;
    expect(await health(url)).toEqual({ waiting: 0, running: true });

    // One waits...
    const waitingAbort = new AbortController();
    const waiting = fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body(2)),
      signal: waitingAbort.signal,
    });
    waiting.catch(() => undefined);
    await until(async () => (await health(url)).waiting === 1, 'one waiting request');
    // ...the next is refused at once.
    const refused = await client.chat.completions.create(body(2) as never).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimit = refused as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rateLimit.status).toBe(429);
    expect(rateLimit.code).toBe('queue_full');
    expect(Number(rateLimit.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);

    // The waiting client leaves: its place is free again.
    waitingAbort.abort();
    await until(async () => (await health(url)).waiting === 0, 'the waiting request to leave');
    const next = client.chat.completions.create(body(3) as never);
    await until(async () => (await health(url)).waiting === 1, 'the next request to wait');

    // The running client leaves: its generation stops long before 1500 tokens and the next one is answered, exactly.
    runningAbort.abort();
    const answer = (await next) as OpenAI.ChatCompletion;
    const reference = await model.generate({
      messages: [{ role: 'user', content: [{ type: 'video' }, { type: 'text', text: 'Why is this funny?' }] }],
      videos: [fixtureVideo],
      maxNewTokens: 3,
      doSample: false,
      prefixCache: false,
    });
    expect(answer.choices[0]!.message.content).toBe(reference.text);
    await until(() => logs.filter((line) => line.status === 499).length === 2, 'two log lines of clients that left');
    const gone = logs.filter((line) => line.status === 499);
    expect(gone.every((line) => line.path === '/v1/chat/completions')).toBe(true);
    const cancelled = gone.find((line) => line.completionTokens !== undefined);
    expect(cancelled?.completionTokens).toBeLessThan(1500);
    expect(logs.some((line) => line.status === 429 && line.error === 'queue_full')).toBe(true);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(
      /^video_llava_http_requests_total\{method="POST",route="\/v1\/chat\/completions",status="429"\} 1$/m,
    );
    expect(metrics).toMatch(
      /^video_llava_http_requests_total\{method="POST",route="\/v1\/chat\/completions",status="499"\} 2$/m,
    );
  });
});

describe('--timeout', () => {
  it('cancels a request that runs too long: 504 when not streamed, an error event then [DONE] once streaming', async () => {
    const { url, client } = await start({ timeout: 1.5 });
    const error = await client.chat.completions.create(body(5000) as never).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ status: 504, code: 'timeout' });
    expect(await health(url)).toEqual({ waiting: 0, running: false });

    // For the timeout to strike after the first token, the first token must come fast: another server on the same
    // model answers the same prompt first, so the model's prefix cache holds it (only the last prompt token runs).
    const warm = await start();
    let streamed = '';
    for (let attempt = 0; attempt < 3 && !streamed.includes('"delta"'); attempt++) {
      await warm.client.chat.completions.create(body(1) as never);
      streamed = await streamRequest(url, body(5000, true)).done;
    }
    const events = streamed.split('\n\n').filter((event) => event !== '');
    expect(events[0]).toMatch(/"role":"assistant"/);
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(events.at(-2)!.slice(6))).toMatchObject({ error: { type: 'timeout_error', code: 'timeout' } });
    // Nothing is left running.
    expect(await health(url)).toEqual({ waiting: 0, running: false });
  });
});

describe('graceful shutdown on a signal', () => {
  it('finishes the running request, refuses new ones, then closes', async () => {
    const { url, server } = await start();
    const running = streamRequest(url, body(12, true));
    await running.firstChunk;
    const closed = server.closeOnSignals(['SIGUSR2']);
    process.kill(process.pid, 'SIGUSR2');
    // New requests are refused while it drains (or cannot connect once the listener is closed).
    await until(async () => {
      const status = await fetch(`${url}/health`).then(
        (response) => response.status,
        () => 0,
      );
      return status === 503 || status === 0;
    }, 'the server to refuse new requests');
    const sse = await running.done;
    expect(sse.trimEnd().endsWith('data: [DONE]')).toBe(true);
    const reference = await model.generate({
      messages: [{ role: 'user', content: [{ type: 'video' }, { type: 'text', text: 'Why is this funny?' }] }],
      videos: [fixtureVideo],
      maxNewTokens: 12,
      doSample: false,
      prefixCache: false,
    });
    expect(contentOf(sse)).toBe(reference.text);
    expect(await closed).toBe('SIGUSR2');
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it('cancels the running request after the grace period with an error event', async () => {
    const { url, server } = await start({ shutdownGracePeriod: 0.2 });
    const running = streamRequest(url, body(5000, true));
    await running.firstChunk;
    await server.close();
    const sse = await running.done;
    const events = sse.split('\n\n').filter((event) => event !== '');
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(events.at(-2)!.slice(6))).toMatchObject({ error: { code: 'server_shutting_down' } });
  });
});

import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { basename } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { type Tensor, VideoLlava, type VideoLlavaAnswer, type VideoLlavaLoadOptions } from 'video-llava';
import { type ChatCompletionRequest, parseChatRequest } from './chat-request.js';
import { type MediaFileSystem, MediaRoot } from './media-root.js';
import { type MediaReference, readMedia } from './media-source.js';
import { HttpError, toHttpError } from './openai-error.js';
import { PixelCache } from './pixel-cache.js';
import { RequestQueue } from './request-queue.js';
import { type ServerMetrics, createServerMetrics } from './server-metrics.js';
import { StopTextFilter, cutAtStop } from './stop-text.js';

/** One line of the request log: written once per request, when its answer is over. */
export interface RequestLogLine {
  /** ISO time the request arrived. */
  time: string;
  requestId: string;
  method: string;
  /** The path, without the query. */
  path: string;
  /** The HTTP status; 499 when the client went away first. */
  status: number;
  durationMs: number;
  /** Prompt tokens (chat completions that reached the model). */
  promptTokens?: number;
  /** Generated tokens, every choice counted. */
  completionTokens?: number;
  /** The error code of a failed request (`queue_full`, `media_outside_root`, ...). */
  error?: string;
}

/** Options of {@link createVideoLlavaServer}. */
export interface VideoLlavaServerOptions {
  /** A loaded `VideoLlava`, or what `VideoLlava.load` takes (a converted model folder, a URL, a hub id). */
  model: VideoLlava | string;
  /** Options of `VideoLlava.load` when `model` is a source (dtype, session options such as threads, ...). */
  loadOptions?: VideoLlavaLoadOptions;
  /**
   * The model's name in `/v1/models` and in answers.
   * @default the last part of the source (`video-llava-7b-onnx`), or `video-llava` for a loaded model
   */
  modelId?: string;
  /**
   * The address to listen on.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * The port to listen on; 0 picks a free one.
   * @default 8080
   */
  port?: number;
  /**
   * The folder that media paths and `file:` URLs are read from; nothing outside it is ever opened.
   * @default none: only data URLs (and http(s) URLs with `allowRemoteMedia`)
   */
  mediaRoot?: string;
  /**
   * Fetch http(s) media URLs.
   * @default false
   */
  allowRemoteMedia?: boolean;
  /**
   * The most bytes one remote media file may have.
   * @default 268435456 (256 MiB)
   */
  maxRemoteMediaBytes?: number;
  /**
   * Requests that may wait behind the one running; more are refused with 429 and `Retry-After`.
   * @default 16
   */
  maxQueue?: number;
  /**
   * Seconds a request may take, waiting included; then it is cancelled and answered 504. 0: no limit.
   * @default 600
   */
  timeout?: number;
  /**
   * A key clients must send (`Authorization: Bearer <key>`) on `/v1/*`; `/health` and `/metrics` stay open.
   * @default none: no key needed
   */
  apiKey?: string;
  /**
   * The largest request body in bytes (data URLs included); larger ones get 413.
   * @default 104857600 (100 MiB)
   */
  bodyLimit?: number;
  /**
   * The most choices (`n`) one request may ask for.
   * @default 8
   */
  maxChoices?: number;
  /**
   * New tokens at most when a request gives no `max_completion_tokens` / `max_tokens` and the checkpoint's
   * generation_config.json sets no `max_new_tokens` / `max_length` (transformers would stop after 20 tokens).
   * @default 512
   */
  defaultMaxTokens?: number;
  /**
   * Distinct media files whose pixel values are kept, so that questions about the same video skip decoding it and
   * reuse the model's cached prefix.
   * @default 8
   */
  mediaCacheSize?: number;
  /**
   * Seconds that `close()` (SIGTERM) lets the running request finish before cancelling it.
   * @default 30
   */
  shutdownGracePeriod?: number;
  /**
   * Where the request log goes: one object per request. `false` turns it off.
   * @default one JSON line per request on stderr
   */
  log?: ((line: RequestLogLine) => void) | false;
  /** The file-system calls media paths go through (for tests that record them). @internal */
  mediaFileSystem?: MediaFileSystem;
}

/** A running (or ready) server. */
export interface VideoLlavaServer {
  /** The Fastify instance (`app.inject` for tests without a socket). */
  readonly app: FastifyInstance;
  /** The model it serves. */
  readonly model: VideoLlava;
  /** The model name it answers with. */
  readonly modelId: string;
  /** The Prometheus registry behind `/metrics`. */
  readonly metrics: Registry;
  /** `http://host:port` once listening. */
  readonly url: string | undefined;
  /** Starts listening on `host:port`; resolves with the URL. */
  listen(): Promise<string>;
  /**
   * Stops gracefully: refuses new requests (503), answers waiting ones 503, lets the running one finish for
   * `shutdownGracePeriod` seconds and then cancels it, closes the listener, and releases a model it loaded itself.
   */
  close(): Promise<void>;
  /**
   * Closes the server on the first of `signals`; resolves with that signal's name once closed. A second signal
   * gets Node's default handling (the process ends at once).
   * @default signals ['SIGTERM', 'SIGINT']
   */
  closeOnSignals(signals?: readonly NodeJS.Signals[]): Promise<NodeJS.Signals>;
}

interface RequestRecord {
  id: string;
  started: number;
  time: string;
  promptTokens?: number;
  completionTokens?: number;
  error?: string;
  /** Settles when the handler is over (its token counts known), which may be after the client left. */
  handled?: Promise<void>;
}

const FINISH_REASONS: Record<string, 'stop' | 'length'> = {
  eos: 'stop',
  'stop-string': 'stop',
  'stop-criterion': 'stop',
  length: 'length',
};

function defaultLog(line: RequestLogLine): void {
  process.stderr.write(`${JSON.stringify(line)}\n`);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** The error that a client's departure aborts its request with. */
class ClientClosedRequest extends Error {
  constructor() {
    super('The client closed the connection.');
    this.name = 'ClientClosedRequest';
  }
}

/**
 * An OpenAI-compatible server for Video-LLaVA on Fastify: `POST /v1/chat/completions` (streamed or not),
 * `GET /v1/models`, `GET /health`, `GET /metrics`. The model is loaded once (or given); requests run one at a time
 * behind a bounded queue.
 *
 * @example
 * ```ts
 * import { createVideoLlavaServer } from '@video-llava/server';
 *
 * const server = await createVideoLlavaServer({ model: 'path/to/converted-model', mediaRoot: 'videos', port: 8080 });
 * console.log(`listening on ${await server.listen()}`);
 * await server.closeOnSignals(); // SIGTERM / SIGINT: finish the running request, then stop
 * ```
 * @throws VideoLlavaError from `VideoLlava.load`; an `Error` when `mediaRoot` does not exist
 */
export async function createVideoLlavaServer(options: VideoLlavaServerOptions): Promise<VideoLlavaServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  const timeoutMs = (options.timeout ?? 600) * 1000;
  const graceMs = (options.shutdownGracePeriod ?? 30) * 1000;
  const maxChoices = options.maxChoices ?? 8;
  const defaultMaxTokens = options.defaultMaxTokens ?? 512;
  const log = options.log === false ? undefined : (options.log ?? defaultLog);
  const apiKey = options.apiKey === undefined || options.apiKey === '' ? undefined : digest(options.apiKey);
  const mediaRoot =
    options.mediaRoot === undefined ? undefined : await MediaRoot.create(options.mediaRoot, options.mediaFileSystem);

  const ownsModel = typeof options.model === 'string';
  const model =
    typeof options.model === 'string' ? await VideoLlava.load(options.model, options.loadOptions) : options.model;
  const modelId =
    options.modelId ??
    (typeof options.model === 'string'
      ? basename(options.model.replace(/[/\\]+$/, '')) || 'video-llava'
      : 'video-llava');
  const created = Math.floor(Date.now() / 1000);
  const generationConfig = model.config.generation;
  const checkpoint = { doSample: generationConfig.doSample, setsTopK: 'top_k' in generationConfig.raw };
  const checkpointLimitsLength = generationConfig.maxNewTokens !== null || 'max_length' in generationConfig.raw;

  const metrics: ServerMetrics = createServerMetrics();
  const queue = new RequestQueue(options.maxQueue ?? 16);
  queue.onChange = (waiting, running) => {
    metrics.queueLength.set(waiting);
    metrics.running.set(running ? 1 : 0);
  };
  const pixelCache = new PixelCache(model, options.mediaCacheSize ?? 8);
  const records = new WeakMap<FastifyRequest, RequestRecord>();
  const inFlight = new Set<AbortController>();
  let closing: Promise<void> | undefined;
  let url: string | undefined;

  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimit ?? 100 * 1024 * 1024,
    genReqId: () => randomUUID(),
    return503OnClosing: true,
  });

  /** The request's metrics and log line, once its answer is over (and its handler too, for the token counts). */
  function writeLogLine(request: FastifyRequest, record: RequestRecord, status: number): void {
    const route = request.routeOptions.url ?? 'unmatched';
    const durationMs = performance.now() - record.started;
    metrics.requests.inc({ method: request.method, route, status: String(status) });
    metrics.requestDuration.observe({ route }, durationMs / 1000);
    log?.({
      time: record.time,
      requestId: record.id,
      method: request.method,
      path: request.url.split('?')[0]!,
      status,
      durationMs: Math.round(durationMs * 10) / 10,
      ...(record.promptTokens === undefined ? {} : { promptTokens: record.promptTokens }),
      ...(record.completionTokens === undefined ? {} : { completionTokens: record.completionTokens }),
      ...(record.error === undefined ? {} : { error: record.error }),
    });
  }

  app.addHook('onRequest', async (request, reply) => {
    const record: RequestRecord = { id: request.id, started: performance.now(), time: new Date().toISOString() };
    records.set(request, record);
    reply.raw.once('close', () => {
      const status = reply.raw.writableFinished ? reply.raw.statusCode : 499;
      void (record.handled ?? Promise.resolve()).then(() => writeLogLine(request, record, status));
    });
    if (apiKey && request.url.startsWith('/v1/')) {
      const header = request.headers.authorization ?? '';
      const match = /^Bearer\s+(.+)$/i.exec(header);
      if (!match || !timingSafeEqual(digest(match[1]!.trim()), apiKey)) {
        throw new HttpError(
          401,
          'authentication_error',
          match ? 'Incorrect API key provided.' : 'This server needs an API key: send "Authorization: Bearer <key>".',
          { code: 'invalid_api_key' },
        );
      }
    }
  });

  app.setErrorHandler((error, request, reply) => {
    const http = errorToHttp(error);
    const record = records.get(request);
    if (record) record.error = http.code ?? http.type;
    void reply.code(http.status).headers(http.headers).send(http.body());
  });

  app.setNotFoundHandler((request, reply) => {
    const record = records.get(request);
    if (record) record.error = 'not_found';
    void reply.code(404).send(
      new HttpError(404, 'not_found_error', `No route ${request.method} ${request.url.split('?')[0]}.`, {
        code: 'not_found',
      }).body(),
    );
  });

  app.get('/health', async (_request, reply) => {
    if (closing) return reply.code(503).send({ status: 'shutting_down' });
    return { status: 'ok', model: modelId, queue: { waiting: queue.waiting, running: queue.running } };
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });

  const modelObject = { id: modelId, object: 'model', created, owned_by: 'video-llava' };
  app.get('/v1/models', async () => ({ object: 'list', data: [modelObject] }));
  app.get<{ Params: { id: string } }>('/v1/models/:id', async (request) => {
    if (request.params.id !== modelId)
      throw new HttpError(
        404,
        'not_found_error',
        `The model ${JSON.stringify(request.params.id)} does not exist; this server serves ${JSON.stringify(modelId)}.`,
        { param: 'model', code: 'model_not_found' },
      );
    return modelObject;
  });

  app.post('/v1/chat/completions', async (request, reply) => {
    const record = records.get(request)!;
    let handled!: () => void;
    record.handled = new Promise((resolve) => (handled = resolve));
    try {
      return await chatCompletion(request, reply, record);
    } finally {
      handled();
    }
  });

  async function chatCompletion(
    request: FastifyRequest,
    reply: FastifyReply,
    record: RequestRecord,
  ): Promise<FastifyReply> {
    const parsed = parseChatRequest(request.body, { maxChoices }, checkpoint);
    queue.checkCapacity();

    const controller = new AbortController();
    const onClose = (): void => {
      if (!reply.raw.writableFinished) controller.abort(new ClientClosedRequest());
    };
    reply.raw.once('close', onClose);
    // A timer cleared when the request is over (AbortSignal.timeout's would live on for the whole timeout).
    const timeout = timeoutMs > 0 ? new AbortController() : undefined;
    const timer = timeout
      ? setTimeout(
          () => timeout.abort(new DOMException(`The request took longer than ${timeoutMs / 1000} s.`, 'TimeoutError')),
          timeoutMs,
        )
      : undefined;
    const timeoutSignal = timeout?.signal;
    const signal = timeoutSignal ? AbortSignal.any([controller.signal, timeoutSignal]) : controller.signal;
    const cancellation = (): HttpError => abortError(timeoutSignal, controller);
    inFlight.add(controller);
    try {
      const mediaOptions = {
        mediaRoot,
        allowRemoteMedia: options.allowRemoteMedia ?? false,
        maxRemoteBytes: options.maxRemoteMediaBytes ?? 256 * 1024 * 1024,
        signal,
      };
      const videoBytes: Uint8Array[] = [];
      for (const reference of parsed.videos) videoBytes.push(await readMedia(reference, mediaOptions));
      const imageBytes: Uint8Array[] = [];
      for (const reference of parsed.images) imageBytes.push(await readMedia(reference, mediaOptions));
      await queue.run(async () => {
        const videos = await decodeAll(parsed.videos, videoBytes, signal);
        const images = await decodeAll(parsed.images, imageBytes, signal);
        await answer(parsed, { videos, images }, reply, record, signal, cancellation);
      }, signal);
    } catch (error) {
      if (signal.aborted) throw cancellation();
      throw error;
    } finally {
      clearTimeout(timer);
      reply.raw.off('close', onClose);
      inFlight.delete(controller);
    }
    return reply;
  }

  /** Why a request was cancelled: its timeout (504), the shutdown (503), or its client leaving (499, never sent). */
  function abortError(timeoutSignal: AbortSignal | undefined, controller: AbortController): HttpError {
    if (timeoutSignal?.aborted && !controller.signal.aborted) {
      return new HttpError(
        504,
        'timeout_error',
        `The request took longer than the server's timeout (${timeoutMs / 1000} s) and was cancelled.`,
        { code: 'timeout' },
      );
    }
    if (controller.signal.reason instanceof HttpError) return controller.signal.reason;
    return new HttpError(499, 'invalid_request_error', 'The client closed the connection.', {
      code: 'client_closed_request',
      cause: controller.signal.reason,
    });
  }

  async function decodeAll(
    references: MediaReference[],
    bytes: Uint8Array[],
    signal: AbortSignal,
  ): Promise<Tensor<'float32'>[]> {
    const out: Tensor<'float32'>[] = [];
    for (const [index, reference] of references.entries()) {
      try {
        out.push(await pixelCache.pixelValues(reference.kind, bytes[index]!, signal));
      } catch (error) {
        if (signal.aborted) throw error;
        throw toHttpError(error, reference.param);
      }
    }
    return out;
  }

  async function answer(
    parsed: ChatCompletionRequest,
    media: { videos: Tensor<'float32'>[]; images: Tensor<'float32'>[] },
    reply: FastifyReply,
    record: RequestRecord,
    signal: AbortSignal,
    cancellation: () => HttpError,
  ): Promise<void> {
    const completionId = `chatcmpl-${randomUUID()}`;
    // Greedy answers are the same for every choice: computed once, sent n times.
    const copies = parsed.generation.numReturnSequences === undefined ? parsed.n : 1;
    const stream = model.stream({
      messages: parsed.messages,
      videos: media.videos,
      images: media.images,
      ...parsed.generation,
      ...(parsed.maxTokens === undefined && !checkpointLimitsLength ? { maxNewTokens: defaultMaxTokens } : {}),
      signal,
    });
    const filters = Array.from({ length: parsed.n }, () => new StopTextFilter(parsed.stop));
    const base = {
      id: completionId,
      object: 'chat.completion.chunk',
      created: Math.floor(Date.now() / 1000),
      model: modelId,
      system_fingerprint: null,
    };
    const usageField = parsed.includeUsage ? { usage: null } : {};
    let raw: ServerResponse | undefined;
    const send = (data: unknown): void => {
      raw!.write(`data: ${JSON.stringify(data)}\n\n`);
    };
    const startStream = (): void => {
      if (raw || !parsed.stream) return;
      reply.hijack();
      raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-request-id': record.id,
      });
      for (let index = 0; index < parsed.n; index++)
        send({
          ...base,
          choices: [{ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
          ...usageField,
        });
    };
    let lastToken: number | undefined;
    let firstToken = true;
    let result: VideoLlavaAnswer;
    try {
      for await (const delta of stream) {
        if (delta.tokenId !== undefined && delta.sequence === 0) {
          const now = performance.now();
          if (firstToken) metrics.timeToFirstToken.observe((now - record.started) / 1000);
          else if (lastToken !== undefined) metrics.timePerToken.observe((now - lastToken) / 1000);
          firstToken = false;
          lastToken = now;
        }
        if (!parsed.stream) continue;
        startStream();
        const targets = copies > 1 ? Array.from({ length: copies }, (_, index) => index) : [delta.sequence];
        for (const index of targets) {
          const text = filters[index]!.push(delta.text);
          if (text !== '')
            send({
              ...base,
              choices: [{ index, delta: { content: text }, logprobs: null, finish_reason: null }],
              ...usageField,
            });
        }
      }
      result = await stream.result;
    } catch (error) {
      if (signal.aborted) throw error;
      // The library names its own fields (text, videos): for the client it is the messages that are wrong.
      const http = toHttpError(error, 'messages');
      if (!raw) throw http;
      record.error = http.code ?? http.type;
      send(http.body());
      raw.end('data: [DONE]\n\n');
      return;
    }

    const sequences = copies > 1 ? Array.from({ length: copies }, () => result.sequences[0]!) : result.sequences;
    const completionTokens = sequences.reduce((sum, sequence) => sum + sequence.ids.length, 0);
    record.promptTokens = result.promptTokens;
    record.completionTokens = completionTokens;
    metrics.promptTokens.inc(result.promptTokens);
    metrics.generatedTokens.inc(completionTokens);
    const usage = {
      prompt_tokens: result.promptTokens,
      completion_tokens: completionTokens,
      total_tokens: result.promptTokens + completionTokens,
    };

    if (signal.aborted) {
      // Cancelled (timeout, client gone, shutdown): never sent as if it were the whole answer.
      const http = cancellation();
      if (!raw) throw http;
      if (!raw.destroyed) {
        if (http.status !== 499) {
          record.error = http.code ?? http.type;
          send(http.body());
        }
        raw.end('data: [DONE]\n\n');
      }
      return;
    }

    const finish = (finishReason: string, stopped: boolean): 'stop' | 'length' =>
      stopped ? 'stop' : (FINISH_REASONS[finishReason] ?? 'stop');
    if (!parsed.stream) {
      const choices = sequences.map((sequence, index) => {
        const cut = cutAtStop(sequence.text, parsed.stop);
        return {
          index,
          message: { role: 'assistant', content: cut.text, refusal: null },
          logprobs: null,
          finish_reason: finish(sequence.finishReason, cut.stopped),
        };
      });
      void reply.header('x-request-id', record.id).send({
        id: completionId,
        object: 'chat.completion',
        created: base.created,
        model: modelId,
        system_fingerprint: null,
        choices,
        usage,
      });
      return;
    }
    startStream();
    sequences.forEach((sequence, index) => {
      const filter = filters[index]!;
      const rest = filter.flush();
      if (rest !== '')
        send({
          ...base,
          choices: [{ index, delta: { content: rest }, logprobs: null, finish_reason: null }],
          ...usageField,
        });
      send({
        ...base,
        choices: [{ index, delta: {}, logprobs: null, finish_reason: finish(sequence.finishReason, filter.stopped) }],
        ...usageField,
      });
    });
    if (parsed.includeUsage) send({ ...base, choices: [], usage });
    raw!.end('data: [DONE]\n\n');
  }

  function errorToHttp(error: unknown): HttpError {
    if (error instanceof HttpError) return error;
    const fastifyError = error as { statusCode?: number; code?: string; message?: string };
    if (
      typeof fastifyError.statusCode === 'number' &&
      fastifyError.statusCode >= 400 &&
      fastifyError.statusCode < 500
    ) {
      const status = fastifyError.statusCode;
      const code =
        fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 'request_too_large'
          : fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? 'unsupported_media_type'
            : status === 400
              ? 'invalid_json'
              : (fastifyError.code ?? null);
      const message =
        code === 'request_too_large'
          ? `The request body is larger than this server's limit of ${app.initialConfig.bodyLimit} bytes (--body-limit); send large videos as paths under the media root.`
          : code === 'invalid_json'
            ? `The body is not valid JSON: ${fastifyError.message ?? ''}`
            : (fastifyError.message ?? 'Bad request.');
      return new HttpError(status, 'invalid_request_error', message, { code });
    }
    return toHttpError(error);
  }

  const server: VideoLlavaServer = {
    app,
    model,
    modelId,
    metrics: metrics.registry,
    get url() {
      return url;
    },
    async listen() {
      url = await app.listen({ host, port });
      return url;
    },
    close() {
      closing ??= (async () => {
        queue.close(
          new HttpError(503, 'server_error', 'The server is shutting down.', { code: 'server_shutting_down' }),
        );
        const grace = setTimeout(() => {
          for (const controller of inFlight)
            controller.abort(
              new HttpError(503, 'server_error', 'The server shut down before this request was answered.', {
                code: 'server_shutting_down',
              }),
            );
        }, graceMs);
        try {
          await app.close();
        } finally {
          clearTimeout(grace);
          if (ownsModel) await model.release();
        }
      })();
      return closing;
    },
    closeOnSignals(signals = ['SIGTERM', 'SIGINT']) {
      return new Promise((resolve, reject) => {
        const handlers = new Map<NodeJS.Signals, () => void>();
        for (const signal of signals) {
          const handler = (): void => {
            for (const [other, otherHandler] of handlers) if (other !== signal) process.off(other, otherHandler);
            server.close().then(() => resolve(signal), reject);
          };
          handlers.set(signal, handler);
          process.once(signal, handler);
        }
      });
    },
  };
  return server;
}

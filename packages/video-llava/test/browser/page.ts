// The page side of the Chromium test: bundled by esbuild as an application would bundle it, it imports
// 'video-llava/web' and exposes what the test drives through globalThis.__videoLlavaPage. Everything it returns is
// plain data (ids, text, progress events, base64 frames), so it crosses playwright's page.evaluate as it is.
import { Tensor } from '@video-llava/core';
import { createWebBackend } from '@video-llava/runtime-web';
import {
  type Backend,
  DeviceTensor,
  type InferenceSession,
  type RuntimeTensor,
  type SessionOptions,
} from '@video-llava/runtime';
import {
  type GenerationStep,
  type ProgressEvent,
  VideoLlava,
  VideoLlavaError,
  type VideoLlavaRequest,
  webPlatform,
} from 'video-llava/web';

/** Where the pixel values of a case come from: raw little-endian float32 at `url`, shaped `dims`. */
export interface PixelFile {
  url: string;
  dims: number[];
}

/** A video or an image: its pixel values, its URL, a Blob of what is at that URL, or an ImageBitmap of it. */
export type PageMedia = { pixels: PixelFile } | { url: string } | { blobOf: string } | { bitmapOf: string };

/** A question for the page: the prompt (or a batch of them), its videos and images, the decoding. */
export interface PageRequest {
  model: string;
  prompt: string | string[];
  videos?: PageMedia[];
  images?: PageMedia[];
  maxNewTokens: number;
  /**
   * Abort when a progress event of this stage reports `done` (`decode` 5: after the fifth token), at once or, when
   * `deferred`, from the next task (while the work that event announced is under way).
   */
  abortWhen?: { stage: string; done: number; deferred?: boolean };
  /** Stream it with model.stream (else model.generate). */
  stream?: boolean;
  /** Keep every step's logits in the page, for {@link compareLogits}, under this name. */
  keepLogits?: string;
}

export interface PageAnswer {
  ids: number[];
  /** The ids of every sequence (one per prompt). */
  sequences: number[][];
  text: string;
  finishReason: string;
  /** The five best logits of every row at every step, best first: `[rows][steps][5]`. */
  topLogits: number[][][];
  /** The deltas of a streamed answer. */
  deltas?: Array<{ tokenId: number | undefined; text: string; finishReason?: string | undefined }>;
  /** The progress events of the request. */
  progress: ProgressEvent[];
  /** Where the decoder's key/value cache was during the request. */
  cache: CacheRecord;
  milliseconds: number;
  /** When each step's logits came, in milliseconds from the start. */
  stepTimes: number[];
}

export interface PageError {
  error: { code: string; message: string; field?: string | undefined; file?: string | undefined };
}

/**
 * Where the decoder's key/value cache was, over its runs: the device of every `present.*` output and of every
 * `past_key_values.*` input that held positions (`cpu` for a CPU tensor, else the device tensor's device).
 */
export interface CacheRecord {
  decoderRuns: number;
  outputDevices: string[];
  inputDevices: string[];
}

const models = new Map<string, VideoLlava>();
const cacheRecords = new Map<string, CacheRecord>();

const deviceOf = (value: RuntimeTensor): string => (DeviceTensor.isInstance(value) ? value.device : 'cpu');
const noteDevice = (devices: string[], device: string): void => void (devices.includes(device) || devices.push(device));

/** The decoder's session, recording in `record` where its cache comes from and goes to at every run. */
function recordingDecoder(session: InferenceSession, record: CacheRecord): InferenceSession {
  const run: InferenceSession['run'] = async (feeds, options) => {
    for (const [name, value] of Object.entries(feeds))
      if (name.startsWith('past_key_values.') && value.dims[2] !== 0) noteDevice(record.inputDevices, deviceOf(value));
    const outputs = await session.run(feeds, options);
    record.decoderRuns++;
    for (const [name, value] of Object.entries(outputs))
      if (name.startsWith('present.')) noteDevice(record.outputDevices, deviceOf(value));
    return outputs;
  };
  // Bound to the session itself: its getters and methods read private fields
  return new Proxy(session, {
    get: (target, key) => {
      if (key === 'run') return run;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
const keptLogits = new Map<string, Float32Array[]>();

function describeError(error: unknown): PageError {
  if (VideoLlavaError.isInstance(error))
    return { error: { code: error.code, message: error.message, field: error.field, file: error.file } };
  return {
    error: {
      code: 'NOT_A_VIDEO_LLAVA_ERROR',
      message: error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error),
    },
  };
}

async function attempt<T>(work: () => Promise<T>): Promise<T | PageError> {
  try {
    return await work();
  } catch (error) {
    return describeError(error);
  }
}

function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (let offset = 0; offset < bytes.length; offset += 0x8000)
    text += String.fromCharCode(...bytes.subarray(offset, offset + 0x8000));
  return btoa(text);
}

async function fetchBytes(url: string): Promise<ArrayBuffer> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

/** What `generate` takes for a medium: a pixel tensor, a URL string or a Blob. */
async function mediaInput(media: PageMedia): Promise<Tensor<'float32'> | string | Blob | ImageBitmap> {
  if ('pixels' in media)
    return new Tensor('float32', new Float32Array(await fetchBytes(media.pixels.url)), media.pixels.dims);
  if ('url' in media) return media.url;
  if ('bitmapOf' in media) return createImageBitmap(new Blob([await fetchBytes(media.bitmapOf)]));
  return new Blob([await fetchBytes(media.blobOf)]);
}

/**
 * The platform's backend (or one with WebAssembly threads), recording which execution provider each session got.
 * Threads need `wasmPaths` here: onnxruntime-web starts its thread workers from its own script, and bundled into
 * the page's script, that script is the page's (where onnxruntime-web initializes lazily, on first use, so the
 * workers never answer and the first session never loads).
 */
function recordingBackend(
  providers: string[],
  decoderCacheLocations: string[],
  cache: CacheRecord,
  threads: number | undefined,
): Backend {
  const backend =
    threads === undefined
      ? webPlatform.createBackend()
      : createWebBackend({ threads, wasmPaths: new URL('/', location.href).href });
  return {
    ...backend,
    async createSession(model, options) {
      const session = await backend.createSession(model, options);
      const file = String(model).split('/').pop()!;
      providers.push(`${file}: ${session.executionProvider}`);
      if (!file.startsWith('decoder_model_merged')) return session;
      for (const [name, location] of Object.entries(session.outputLocations))
        if (name.startsWith('present.')) noteDevice(decoderCacheLocations, location);
      return recordingDecoder(session, cache);
    },
  };
}

const page = {
  /**
   * Loads the model at `url` under `name`, on the execution providers given (the backend's default without),
   * aborting the load when a progress event of `abortWhen` comes; with WebAssembly `threads` when given.
   */
  load(
    name: string,
    url: string,
    executionProviders?: string[],
    abortWhen?: { stage: string; file: string },
    threads?: number,
  ) {
    return attempt(async () => {
      const progress: ProgressEvent[] = [];
      const providers: string[] = [];
      const decoderCacheLocations: string[] = [];
      const cache: CacheRecord = { decoderRuns: 0, outputDevices: [], inputDevices: [] };
      const controller = new AbortController();
      const started = performance.now();
      const sessionOptions: SessionOptions = executionProviders ? { executionProviders } : {};
      const model = await VideoLlava.load(url, {
        backend: recordingBackend(providers, decoderCacheLocations, cache, threads),
        sessionOptions,
        preload: ['embed_tokens', 'decoder_model_merged', 'video_encoder'],
        prefixCache: false,
        signal: controller.signal,
        onProgress: (event) => {
          progress.push({ ...event });
          if (event.stage === abortWhen?.stage && event.file?.endsWith(abortWhen.file)) controller.abort();
        },
      });
      models.set(name, model);
      cacheRecords.set(name, cache);
      return { progress, providers, decoderCacheLocations, milliseconds: performance.now() - started };
    });
  },

  /** Answers a request: generate, or stream, optionally aborted after some tokens. */
  ask(request: PageRequest) {
    return attempt(async (): Promise<PageAnswer> => {
      const model = models.get(request.model);
      if (!model) throw new Error(`no model ${request.model} loaded`);
      const videos =
        request.videos &&
        (await Promise.all(request.videos.map(mediaInput))).map((video) => video as Exclude<typeof video, ImageBitmap>);
      const images = request.images && (await Promise.all(request.images.map(mediaInput)));
      const progress: ProgressEvent[] = [];
      const cache = cacheRecords.get(request.model)!;
      Object.assign(cache, { decoderRuns: 0, outputDevices: [], inputDevices: [] });
      const controller = new AbortController();
      const topLogits: number[][][] = [];
      const logits: Float32Array[] = [];
      const stepTimes: number[] = [];
      const started = performance.now();
      const generation: VideoLlavaRequest = {
        prompt: request.prompt,
        ...(videos ? { videos } : {}),
        ...(images ? { images } : {}),
        maxNewTokens: request.maxNewTokens,
        doSample: false,
        signal: controller.signal,
        onProgress: (event) => {
          progress.push({ ...event });
          const abortWhen = request.abortWhen;
          if (event.stage === abortWhen?.stage && event.done >= abortWhen.done) {
            if (abortWhen.deferred) setTimeout(() => controller.abort(), 0);
            else controller.abort();
          }
        },
        onStep: (step: GenerationStep) => {
          stepTimes.push(performance.now() - started);
          step.topK(5, 'logits').values.forEach((values, row) => (topLogits[row] ??= []).push(values));
          if (request.keepLogits !== undefined) logits.push(step.logits.slice(0, step.vocabSize));
        },
      };
      let answer;
      let deltas: PageAnswer['deltas'];
      if (request.stream) {
        deltas = [];
        const stream = model.stream(generation);
        for await (const delta of stream)
          deltas.push({
            tokenId: delta.tokenId,
            text: delta.text,
            ...(delta.finishReason ? { finishReason: delta.finishReason } : {}),
          });
        answer = await stream.result;
      } else answer = await model.generate(generation);
      if (request.keepLogits !== undefined) keptLogits.set(request.keepLogits, logits);
      return {
        ids: answer.ids,
        sequences: answer.sequences.map((sequence) => sequence.ids),
        text: answer.text,
        finishReason: answer.finishReason,
        topLogits,
        ...(deltas ? { deltas } : {}),
        progress,
        cache: structuredClone(cache),
        stepTimes,
        milliseconds: performance.now() - started,
      };
    });
  },

  /** The largest absolute difference between two kept runs' logits, over the steps both have, and where. */
  compareLogits(first: string, second: string) {
    const a = keptLogits.get(first) ?? [];
    const b = keptLogits.get(second) ?? [];
    let max = 0;
    let at = { step: -1, token: -1 };
    for (let step = 0; step < Math.min(a.length, b.length); step++) {
      for (let token = 0; token < a[step]!.length; token++) {
        const difference = Math.abs(a[step]![token]! - b[step]![token]!);
        if (!(difference <= max)) {
          max = difference;
          at = { step, token };
        }
      }
    }
    return { maxAbsDifference: max, ...at, steps: Math.min(a.length, b.length) };
  },

  /** Decodes a video as `video-llava/web` does (the checkpoint's 8 frames), as base64 RGB. */
  decodeVideo(url: string) {
    return attempt(async () => {
      const video = (await webPlatform.loadVideo(url, { numFrames: 8 })) as {
        frames: Tensor<'uint8'>;
        indices: number[];
      };
      return {
        dims: [...video.frames.dims],
        indices: video.indices,
        frames: toBase64(video.frames.data as Uint8Array),
      };
    });
  },

  /** Whether the page is cross-origin isolated (what WebAssembly threads need). */
  crossOriginIsolated() {
    return globalThis.crossOriginIsolated;
  },

  async release() {
    for (const model of models.values()) await model.release();
    models.clear();
  },
};

export type VideoLlavaTestPage = typeof page;

(globalThis as { __videoLlavaPage?: VideoLlavaTestPage }).__videoLlavaPage = page;

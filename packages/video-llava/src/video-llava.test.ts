import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubSource } from '@video-llava/config';
import { VideoLlavaError } from '@video-llava/core';
import { fixtureCases, tinyFixture } from '@video-llava/test-utils';
import { startStaticServer } from '@video-llava/test-utils/chromium';
import { isCudaProviderInstalled } from '@video-llava/runtime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertedFixture } from '../test/converted-fixture.js';
import { Tensor, VideoLlava } from './index.js';
import { Tensor as CoreTensor } from '@video-llava/core';

// The converted fixture, asked from the raw files (the MP4 decoded by FFmpeg, the PNG by the built-in decoder).
const videoFile = join(tinyFixture.video, 'sample_48f_320x240.mp4');
const videoCase = fixtureCases().find((fixtureCase) => fixtureCase.name === 'video')!;
const imageCase = fixtureCases().find((fixtureCase) => fixtureCase.name === 'image')!;
const videoPrompt = videoCase.text[0]!;
const expectedVideoIds = Array.from(tinyFixture.npy('case_video', 'generated_ids.npy').data as BigInt64Array, Number);

async function caught(promise: Promise<unknown>): Promise<VideoLlavaError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(VideoLlavaError.isInstance(error), `expected a VideoLlavaError, got ${String(error)}`).toBe(true);
  return error as VideoLlavaError;
}

describe('VideoLlava (Node entry) on the converted fixture', () => {
  let model: VideoLlava;
  let scratch: string;
  beforeAll(async () => {
    model = await VideoLlava.load(await convertedFixture(), { sessionOptions: { threads: 1 } });
    scratch = mkdtempSync(join(tmpdir(), 'video-llava-test-'));
  });
  afterAll(async () => {
    await model.release();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('runs the key/value buffer decoder by default where the CPU runs it (the default providers start with CUDA)', () => {
    expect(model.model.decoderCacheLayout).toBe(isCudaProviderInstalled() ? 'present' : 'buffer');
  });

  it('answers about the MP4 file with the reference tokens (FFmpeg frames, processed here) and reports progress', async () => {
    model.clearPrefixCache();
    const stages: string[] = [];
    const answer = await model.generate({
      prompt: videoPrompt,
      videos: [videoFile],
      maxNewTokens: 24,
      onProgress: (event) => stages.push(event.stage),
    });
    expect(answer.ids).toEqual(expectedVideoIds);
    expect(answer.text).toBe(model.processor.decode(expectedVideoIds, { skipSpecialTokens: true }));
    expect(answer.promptTokens).toBe(videoCase.input_ids_shape[1]);
    for (const stage of ['decode-video', 'encode', 'prefill', 'decode']) expect(stages).toContain(stage);
    expect(stages.indexOf('decode-video')).toBeLessThan(stages.indexOf('encode'));
  });

  it('answers about the PNG file with the reference tokens', async () => {
    const answer = await model.generate({
      prompt: imageCase.text[0]!,
      images: [join(tinyFixture.images, imageCase.images[0]!)],
      maxNewTokens: 24,
      prefixCache: false,
    });
    expect(answer.ids).toEqual(
      Array.from(tinyFixture.npy('case_image', 'generated_ids.npy').data as BigInt64Array, Number),
    );
  });

  it('builds the prompt from chat messages', async () => {
    const answer = await model.generate({
      messages: [{ role: 'user', content: [{ type: 'video' }, { type: 'text', text: 'Why is this funny?' }] }],
      videos: [videoFile],
      maxNewTokens: 4,
      prefixCache: false,
    });
    expect(answer.prompt).toEqual([videoPrompt]);
    expect(answer.ids).toEqual(expectedVideoIds.slice(0, 4));
  });

  it('streams the same tokens and text as generate', async () => {
    const stream = model.stream({ prompt: videoPrompt, videos: [videoFile], maxNewTokens: 12, prefixCache: false });
    let text = '';
    const ids: number[] = [];
    for await (const delta of stream) {
      text += delta.text;
      if (delta.tokenId !== undefined) ids.push(delta.tokenId);
    }
    const answer = await stream.result;
    expect(ids).toEqual(expectedVideoIds.slice(0, 12));
    expect(answer.ids).toEqual(ids);
    expect(text).toBe(answer.text);
  });

  it('a follow-up about the same video reuses the cached prefix: no second video encoding, only the new tokens prefilled', async () => {
    model.clearPrefixCache();
    const first = await model.generate({ prompt: videoPrompt, videos: [videoFile], maxNewTokens: 8 });
    const followUp = `${videoPrompt} ${first.text}</s>USER: What happens next? ASSISTANT:`;
    const before = { ...model.model.statistics };
    const second = await model.generate({ prompt: followUp, videos: [videoFile], maxNewTokens: 8 });
    const after = model.model.statistics;
    expect(after.videoEncoderRuns - before.videoEncoderRuns).toBe(0);
    const reused = after.reusedPrefixTokens - before.reusedPrefixTokens;
    const prefilled = after.prefillTokens - before.prefillTokens;
    expect(reused).toBeGreaterThan(videoCase.input_ids_shape[1]!);
    expect(reused + prefilled).toBe(second.promptTokens);
    expect(prefilled).toBeLessThan(40);
    // The same question to a model without a cached prefix: every token the same.
    const fresh = await VideoLlava.load(await convertedFixture(), {
      prefixCache: false,
      sessionOptions: { threads: 1 },
    });
    try {
      const expected = await fresh.generate({ prompt: followUp, videos: [videoFile], maxNewTokens: 8 });
      expect(fresh.model.statistics.videoEncoderRuns).toBe(1);
      expect(fresh.model.statistics.prefillTokens).toBe(second.promptTokens);
      expect(second.ids).toEqual(expected.ids);
    } finally {
      await fresh.release();
    }
  });

  it('refuses placeholders and media that disagree', async () => {
    const error = await caught(
      model.generate({ prompt: videoPrompt, videos: [videoFile, videoFile], maxNewTokens: 2 }),
    );
    expect(error.code).toBe('TOKEN_COUNT_MISMATCH');
    const image = await caught(model.generate({ prompt: 'USER: <image>\nHi ASSISTANT:', maxNewTokens: 2 }));
    expect(image.code).toBe('TOKEN_COUNT_MISMATCH');
  });

  it('refuses a prompt that does not fit the model (two videos are 4112 tokens, max_position_embeddings is 4096)', async () => {
    const error = await caught(
      model.generate({
        prompt: 'USER: <video>\n<video>\nCompare. ASSISTANT:',
        videos: [videoFile, videoFile],
        maxNewTokens: 2,
      }),
    );
    expect(error.code).toBe('SEQUENCE_TOO_LONG');
    expect(error.field).toBe('text_config.max_position_embeddings');
  });

  it('names a video that fails to decode', async () => {
    const broken = join(scratch, 'broken.mp4');
    writeFileSync(broken, Buffer.from('this is not a video, only some bytes with an .mp4 name'));
    const error = await caught(model.generate({ prompt: videoPrompt, videos: [broken], maxNewTokens: 2 }));
    expect(['DECODE_FAILED', 'INVALID_FILE']).toContain(error.code);
    expect(error.file).toBe(broken);
  });

  it('an aborted generation returns what it had, and the model answers again afterwards', async () => {
    const controller = new AbortController();
    const answer = await model.generate({
      prompt: videoPrompt,
      videos: [videoFile],
      maxNewTokens: 24,
      prefixCache: false,
      signal: controller.signal,
      onStep: (step) => {
        if (step.step === 3) controller.abort();
      },
    });
    expect(answer.finishReason).toBe('abort');
    expect(answer.ids).toEqual(expectedVideoIds.slice(0, 4));
    const again = await model.generate({
      prompt: videoPrompt,
      videos: [videoFile],
      maxNewTokens: 2,
      prefixCache: false,
    });
    expect(again.ids).toEqual(expectedVideoIds.slice(0, 2));
  });

  it('says to convert a raw Hugging Face checkpoint first', async () => {
    const error = await caught(VideoLlava.load(tinyFixture.model));
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.message).toMatch(/video-llava convert/);
    expect(error.actual).toBe('a safetensors checkpoint');
  });
});

describe('the Node entry exports', () => {
  it('the Tensor of @video-llava/core, for pixel values', () => {
    expect(Tensor).toBe(CoreTensor);
  });
});

/** Serves `folder` over HTTP under `prefix`, for as long as `work` runs (`requests`: how often each path was asked for). */
async function serving<T>(
  folder: string,
  prefix: string,
  work: (base: string, requests: Map<string, number>) => Promise<T>,
): Promise<T> {
  const server = await startStaticServer({ folders: { [prefix]: folder } });
  try {
    return await work(server.origin.replace(/\/$/, ''), server.requests);
  } finally {
    await server.close();
  }
}

describe('a raw checkpoint loaded by URL or hub id', () => {
  it('by URL: says to download it or give its hub id, as video-llava convert takes no URL', async () => {
    const error = await serving(tinyFixture.model, '/raw/', (base) =>
      caught(VideoLlava.load(`${base}/raw/`, { sessionOptions: { threads: 1 } })),
    );
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.actual).toBe('a safetensors checkpoint');
    expect(error.message).toMatch(/not a URL: download the checkpoint/);
    expect(error.message).toContain('video-llava convert <checkpoint-folder> <output-folder>');
    expect(error.message).not.toMatch(/video-llava convert https?:/);
  });

  it('by hub id: names the repository (and revision) to convert, not its resolve URL', async () => {
    const error = await serving(tinyFixture.model, '/org/tiny/resolve/v1/', (endpoint) =>
      caught(VideoLlava.load(new HubSource('org/tiny@v1', { endpoint }), { sessionOptions: { threads: 1 } })),
    );
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.message).toContain('`video-llava convert org/tiny@v1 <output-folder>`');
    expect(error.message).not.toMatch(/video-llava convert https?:/);
  });
});

describe('VideoLlava abort before the generation starts', () => {
  it('an abort while the video is being decoded resolves with an empty answer (finish reason abort)', async () => {
    const model = await VideoLlava.load(await convertedFixture(), { sessionOptions: { threads: 1 } });
    try {
      const controller = new AbortController();
      controller.abort();
      const answer = await model.generate({
        prompt: videoPrompt,
        videos: [videoFile],
        maxNewTokens: 4,
        signal: controller.signal,
      });
      expect(answer).toMatchObject({ ids: [], text: '', finishReason: 'abort', promptTokens: 0 });
      expect(model.model.statistics.decoderRuns).toBe(0);
      const stream = model.stream({
        prompt: videoPrompt,
        videos: [videoFile],
        maxNewTokens: 4,
        signal: controller.signal,
      });
      const deltas: unknown[] = [];
      for await (const delta of stream) deltas.push(delta);
      expect(deltas).toEqual([]);
      expect((await stream.result).finishReason).toBe('abort');
    } finally {
      await model.release();
    }
  });
});

describe('VideoLlava.load from an http(s) URL', () => {
  it('loads the converted folder served over HTTP and gives the reference tokens', async () => {
    const folder = await convertedFixture();
    await serving(folder, '/model/', async (base, requests) => {
      const model = await VideoLlava.load(`${base}/model/`, { prefixCache: false, sessionOptions: { threads: 1 } });
      try {
        const textOnly = fixtureCases().find((fixtureCase) => fixtureCase.name === 'text_only')!;
        const answer = await model.generate({ prompt: textOnly.text[0]!, maxNewTokens: 24 });
        expect(answer.ids).toEqual(
          Array.from(tinyFixture.npy('case_text_only', 'generated_ids.npy').data as BigInt64Array, Number),
        );
        // Over HTTP too, the default on this CPU is the decoder that keeps the cache in buffers.
        const decoder = isCudaProviderInstalled() ? 'decoder_model_merged' : 'decoder_kv_buffer';
        expect(requests.has(`/model/onnx/${decoder}.onnx`)).toBe(true);
        expect(requests.has('/model/onnx/image_encoder.onnx')).toBe(false);
      } finally {
        await model.release();
      }
    });
  });
});

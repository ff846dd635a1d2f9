import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveFfmpegPath } from '@video-llava/video-processor/node';
import { fixtureCases, measureDifference, tinyFixture } from '@video-llava/test-utils';
import { chromiumPath, transcodeToLosslessH264 } from '@video-llava/test-utils/chromium';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChromiumPage, openChromiumPage } from './browser/chromium-page.js';
import type { PageAnswer, PageError, PageMedia, PageRequest } from './browser/page.js';
import { convertedFixture } from './converted-fixture.js';

// video-llava/web in Debian's chromium (headless, driven by playwright-core): a page bundled by esbuild imports it,
// loads the converted fixture from a local server by URL and answers on onnxruntime-web. Greedy token ids are
// compared exactly with what transformers generated (refs/case_*/generated_ids.npy).
const cases = Object.fromEntries(fixtureCases().map((fixtureCase) => [fixtureCase.name, fixtureCase]));
/** The generated ids of a case, every row one after the other. */
const referenceIds = (name: string): number[] =>
  Array.from(tinyFixture.npy(`case_${name}`, 'generated_ids.npy').data as BigInt64Array, Number);
const STEPS = 24;

let browser: ChromiumPage;
let files: string;

function unwrap<T>(outcome: T | PageError): T {
  if (typeof outcome === 'object' && outcome !== null && 'error' in outcome) {
    throw new Error(
      `the page failed: ${outcome.error.code}: ${outcome.error.message}${browser.consoleErrors.length ? `\nconsole errors:\n${browser.consoleErrors.join('\n')}` : ''}`,
    );
  }
  return outcome;
}

const ask = async (
  request: Omit<PageRequest, 'maxNewTokens' | 'model'> & Partial<Pick<PageRequest, 'maxNewTokens' | 'model'>>,
): Promise<PageAnswer> => unwrap(await browser.call('ask', { model: 'wasm', maxNewTokens: STEPS, ...request }));

/** The fixture's video as pixel values (refs/pixel_values_videos_sample.npy), served as raw float32. */
const pixelVideo = {
  pixels: {
    url: '/files/pixel_values_videos_sample.f32',
    dims: [...tinyFixture.npy('pixel_values_videos_sample.npy').dims],
  },
};
/** An image as pixel values (refs/pixel_values/<image>.npy), served as raw float32. */
const pixelImage = (image: string): PageMedia => ({
  pixels: { url: `/files/${image}.f32`, dims: [...tinyFixture.npy('pixel_values', `${image}.npy`).dims] },
});

beforeAll(async () => {
  chromiumPath(); // throws, naming CHROMIUM_PATH and tooling/scripts/ensure-browser.sh, when there is no Chromium
  files = await mkdtemp(join(tmpdir(), 'video-llava-web-chromium-'));
  const pixels = tinyFixture.npy('pixel_values_videos_sample.npy').data as Float32Array;
  await writeFile(
    join(files, 'pixel_values_videos_sample.f32'),
    new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength),
  );
  for (const image of new Set(Object.values(cases).flatMap((fixtureCase) => fixtureCase.images))) {
    const values = tinyFixture.npy('pixel_values', `${image}.npy`).data as Float32Array;
    await writeFile(join(files, `${image}.f32`), new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  // The fixture's MPEG-4 Part 2 video, which Chromium cannot decode, as H.264 (lossless, every frame kept)
  transcodeToLosslessH264(
    await resolveFfmpegPath(),
    join(tinyFixture.video, 'sample_48f_320x240.mp4'),
    join(files, 'sample_h264.mp4'),
  );
  browser = await openChromiumPage({ model: await convertedFixture(), files, images: tinyFixture.images });
}, 120_000);

afterAll(async () => {
  // Closing the browser frees the models (a release could wait on a run that a timed-out test left going)
  await browser?.close();
  if (files) await rm(files, { recursive: true, force: true });
});

const timings: Record<string, number> = {};
/** Per case, the largest difference of the top-5 logits from transformers' (WebAssembly). */
const logitDifferences: Record<string, number> = {};
const modelUrl = (): string => new URL('model', browser.origin).href;
const h264Url = (): string => new URL('files/sample_h264.mp4', browser.origin).href;
const MODEL_FILES = [
  'config.json',
  'generation_config.json',
  'processor_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
];
const PRELOADED = ['onnx/embed_tokens.onnx', 'onnx/decoder_model_merged.onnx', 'onnx/video_encoder.onnx'];

/** The request of a fixture case, its media as the reference's pixel values. */
function caseRequest(name: string): Pick<PageRequest, 'prompt' | 'videos' | 'images'> {
  const fixtureCase = cases[name]!;
  return {
    prompt: fixtureCase.text.length === 1 ? fixtureCase.text[0]! : fixtureCase.text,
    ...(fixtureCase.videos ? { videos: Array.from({ length: fixtureCase.videos }, () => pixelVideo) } : {}),
    ...(fixtureCase.images.length ? { images: fixtureCase.images.map(pixelImage) } : {}),
  };
}

describe('video-llava/web in Chromium, on WebAssembly', () => {
  it('loads the model from its URL, reporting the download of every file and the load of every part', async () => {
    const loaded = unwrap(await browser.call('load', 'wasm', modelUrl(), ['wasm']));
    timings['load (wasm)'] = loaded.milliseconds;
    expect(loaded.providers).toEqual(PRELOADED.map((file) => `${file.slice('onnx/'.length)}: wasm`));
    // The key/value cache is copied back to the CPU on WebAssembly: only WebGPU keeps it on the device
    expect(loaded.decoderCacheLocations).toEqual(['cpu']);
    const last = new Map<string, (typeof loaded.progress)[number]>();
    for (const event of loaded.progress) last.set(`${event.stage} ${event.file}`, event);
    const folder = await convertedFixture();
    for (const file of MODEL_FILES) {
      const size = (await stat(join(folder, file))).size;
      expect(last.get(`download ${file}`), file).toEqual({
        stage: 'download',
        file,
        done: size,
        total: size,
        unit: 'bytes',
      });
    }
    for (const file of PRELOADED) {
      const size = (await stat(join(folder, file))).size;
      // Downloaded ONNX files are named by their path in the model folder, like the config files (not by URL)
      expect(last.get(`download ${file}`), file).toEqual({
        stage: 'download',
        file,
        done: size,
        total: size,
        unit: 'bytes',
      });
      expect(
        [...last.keys()].filter((key) => key.includes('://')),
        'no event names a file by URL',
      ).toEqual([]);
      const loads = loaded.progress.filter((event) => event.stage === 'load' && event.file === file);
      expect(loads, file).toEqual([0, 1].map((done) => ({ stage: 'load', file, done, total: 1, unit: 'items' })));
    }
    for (const [key, event] of last) if (event.stage === 'download') expect(event.done, key).toBe(event.total);
  });

  it('an abort while loading rejects with ABORTED', async () => {
    for (const [stage, file] of [
      ['download', 'tokenizer.json'],
      ['load', 'onnx/decoder_model_merged.onnx'],
    ]) {
      const outcome = await browser.call('load', 'aborted', modelUrl(), ['wasm'], { stage: stage!, file: file! });
      expect(outcome, `${stage} ${file}`).toMatchObject({ error: { code: 'ABORTED' } });
    }
  });

  it.each(Object.keys(cases))(
    '%s: the 24 greedy tokens of transformers, exactly (media as the reference pixel values)',
    async (name) => {
      const answer = await ask({ ...caseRequest(name), keepLogits: `wasm ${name}` });
      timings[`${name} (wasm)`] = answer.milliseconds;
      expect(answer.sequences.flat()).toEqual(referenceIds(name));
      expect(answer.finishReason).toBe('length');
      expect(answer.cache).toEqual({ decoderRuns: STEPS, outputDevices: ['cpu'], inputDevices: ['cpu'] });
      // The five best logits of every step against those transformers recorded: float32 within 1e-4
      const difference = measureDifference(
        answer.topLogits.flat(2),
        tinyFixture.npy(`case_${name}`, 'step_top5_values.npy'),
      ).maxAbsDifference;
      logitDifferences[name] = difference;
      expect(difference).toBeLessThan(1e-4);
    },
  );

  it.each(['url', 'bitmapOf'] as const)(
    'image: the PNG given as a %s, decoded in the page, gives the reference tokens',
    async (as) => {
      const image = new URL(`images/${cases.image!.images[0]}`, browser.origin).href;
      const answer = await ask({
        prompt: cases.image!.text[0]!,
        images: [as === 'url' ? { url: image } : { bitmapOf: image }],
      });
      expect(answer.progress.filter((event) => event.stage === 'decode-image').map((event) => event.done)).toEqual([
        0, 1,
      ]);
      expect(answer.ids).toEqual(referenceIds('image'));
    },
  );

  it('streams the answer: the deltas carry the reference tokens, and their text is the answer', async () => {
    const answer = await ask({ ...caseRequest('video'), stream: true });
    expect(answer.ids).toEqual(referenceIds('video'));
    expect(answer.deltas!.filter((delta) => delta.tokenId !== undefined).map((delta) => delta.tokenId)).toEqual(
      referenceIds('video'),
    );
    expect(answer.deltas!.map((delta) => delta.text).join('')).toBe(answer.text);
    expect(answer.deltas!.at(-1)!.finishReason).toBe('length');
  });

  it('an abort mid-generation returns the tokens so far, and the model answers again afterwards', async () => {
    const aborted = await ask({ ...caseRequest('video'), stream: true, abortWhen: { stage: 'decode', done: 5 } });
    expect(aborted.finishReason).toBe('abort');
    expect(aborted.ids).toEqual(referenceIds('video').slice(0, 5));
    expect(aborted.deltas!.at(-1)!.finishReason).toBe('abort');
    expect((await ask(caseRequest('text_only'))).ids).toEqual(referenceIds('text_only'));
  });

  it('decodes the H.264 copy of the video with WebCodecs: the reference frames within 3 levels', async () => {
    const decoded = unwrap(await browser.call('decodeVideo', h264Url()));
    expect(decoded.indices).toEqual(tinyFixture.json<{ indices: number[] }>('video.json').indices);
    expect(decoded.dims).toEqual([8, 240, 320, 3]);
    // FFmpeg decodes the lossless H.264 copy to refs/video_sampled_frames.npy exactly; Chromium converts YUV to RGB
    // itself (measured: 1.13 levels apart on average, 3 at most)
    const difference = measureDifference(
      new Uint8Array(Buffer.from(decoded.frames, 'base64')),
      tinyFixture.npy('video_sampled_frames.npy').data as Uint8Array,
    );
    expect(difference.maxAbsDifference).toBeLessThanOrEqual(3);
    expect(difference.meanAbsDifference).toBeLessThan(1.5);
  });

  it.each(['url', 'blob'] as const)(
    'answers about the H.264 video given as a %s, decoding it in the page: the reference tokens',
    async (as) => {
      const answer = await ask({
        prompt: cases.video!.text[0]!,
        videos: [as === 'url' ? { url: h264Url() } : { blobOf: h264Url() }],
      });
      timings[`video from a ${as} (wasm)`] = answer.milliseconds;
      expect(answer.progress.filter((event) => event.stage === 'decode-video').map((event) => event.done)).toEqual([
        0, 1,
      ]);
      // Frames within 3 levels of the reference move no greedy token (the video case's smallest top-1/top-2 gap is 0.014)
      expect(answer.ids).toEqual(referenceIds('video'));
    },
  );

  it('an abort while the video is being decoded answers with no tokens', async () => {
    const aborted = await ask({
      prompt: cases.video!.text[0]!,
      videos: [{ url: h264Url() }],
      abortWhen: { stage: 'decode-video', done: 0, deferred: true },
    });
    expect(aborted).toMatchObject({ ids: [], text: '', finishReason: 'abort' });
    expect(aborted.progress.map((event) => event.stage)).toEqual(['decode-video']);
    expect((await ask(caseRequest('text_only'))).ids).toEqual(referenceIds('text_only'));
  });

  it('logged no errors in the page but the 404s of the optional files it looks for', () => {
    expect(browser.consoleErrors.filter((message) => !message.includes('status of 404'))).toEqual([]);
  });
});

// WebGPU on SwiftShader (a CPU implementation of Vulkan) is slow: the lm_head Gemm alone, [1,64] x [64,32064], takes
// about a second per token, and the video prefill about 100 s. So by default WebGPU runs the text-only case for a few
// tokens; VIDEO_LLAVA_WEBGPU_FULL=1 runs the text-only and video cases for all 24 tokens.
const WEBGPU_FULL = process.env.VIDEO_LLAVA_WEBGPU_FULL === '1';
const WEBGPU_STEPS = WEBGPU_FULL ? STEPS : 4;

describe('video-llava/web in Chromium, on WebGPU (SwiftShader)', () => {
  it('loads every part on WebGPU, the ONNX files from the Cache API (no second download)', async () => {
    const loaded = unwrap(await browser.call('load', 'webgpu', modelUrl(), ['webgpu']));
    timings['load (webgpu)'] = loaded.milliseconds;
    expect(loaded.providers).toEqual(PRELOADED.map((file) => `${file.slice('onnx/'.length)}: webgpu`));
    expect(loaded.decoderCacheLocations).toEqual(['device']);
    for (const file of PRELOADED) expect(browser.requests.get(`/model/${file}`), file).toBe(1);
  });

  it.each(WEBGPU_FULL ? ['text_only', 'video'] : ['text_only'])(
    `%s: the first ${WEBGPU_STEPS} greedy tokens of transformers, logits within 1e-4 of WebAssembly`,
    async (name) => {
      const answer = await ask({
        model: 'webgpu',
        ...caseRequest(name),
        maxNewTokens: WEBGPU_STEPS,
        keepLogits: `webgpu ${name}`,
      });
      timings[`${name}, ${WEBGPU_STEPS} tokens (webgpu)`] = answer.milliseconds;
      const logits = await browser.call('compareLogits', `wasm ${name}`, `webgpu ${name}`);
      console.info(
        `${name} on WebGPU: ${JSON.stringify(answer.ids)}; largest logit difference from WebAssembly ${logits.maxAbsDifference} (step ${logits.step}, token ${logits.token})`,
      );
      expect(answer.ids).toEqual(referenceIds(name).slice(0, WEBGPU_STEPS));
      // The key/value cache stayed in GPU buffers: every run wrote it there, and every step after the prefill read it
      // from there (nothing but the logits came back to the CPU)
      expect(answer.cache).toEqual({ decoderRuns: WEBGPU_STEPS, outputDevices: ['webgpu'], inputDevices: ['webgpu'] });
      expect(logits.steps).toBe(WEBGPU_STEPS);
      expect(logits.maxAbsDifference).toBeLessThan(1e-4);
    },
    WEBGPU_FULL ? 600_000 : 60_000,
  );
});

describe('video-llava/web in Chromium, on WebAssembly with 2 threads (a cross-origin isolated page)', () => {
  it("the reference tokens, with onnxruntime-web's threads started from its own files (wasmPaths)", async () => {
    // Its own downloads: Chromium does not show an isolated page what the other page put in the Cache API
    const tab = await browser.openIsolatedTab();
    try {
      expect(await tab.call('crossOriginIsolated')).toBe(true);
      unwrap(await tab.call('load', 'threads', modelUrl(), ['wasm'], undefined, 2));
      const answer = unwrap(await tab.call('ask', { model: 'threads', ...caseRequest('video'), maxNewTokens: STEPS }));
      timings['video (wasm, 2 threads)'] = answer.milliseconds;
      expect(answer.ids).toEqual(referenceIds('video'));
      expect(tab.workers.map((url) => new URL(url).pathname)).toEqual(['/ort-wasm-simd-threaded.jsep.mjs']);
    } finally {
      await tab.page.close();
    }
  });
});

afterAll(() => {
  console.info(
    `video-llava/web in Chromium, milliseconds: ${Object.entries(timings)
      .map(([what, milliseconds]) => `${what} ${Math.round(milliseconds)}`)
      .join(', ')}`,
  );
  console.info(
    `top-5 logits on WebAssembly, largest difference from transformers: ${Object.entries(logitDifferences)
      .map(([name, difference]) => `${name} ${difference.toExponential(1)}`)
      .join(', ')}`,
  );
});

import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertCheckpoint } from '@video-llava/converter/node';
import { fixtureCases, tinyFixture } from '@video-llava/test-utils';
import {
  type StaticServer,
  chromiumPath,
  launchChromium,
  startStaticServer,
  transcodeToLosslessH264,
} from '@video-llava/test-utils/chromium';
import { resolveFfmpegPath } from '@video-llava/video-processor/node';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The demo as users get it: built by Vite, served on loopback with cross-origin isolation, driven in Debian's
// chromium like a user (the media picker, the textarea, the Ask button). The model is the fixture converted with its
// weights in external data chunks of 256 KiB (x.onnx_data, x.onnx_data_1, ...), loaded by `?model=`; the video is
// the fixture's, as H.264 (Chromium cannot decode its MPEG-4 Part 2 original). The greedy ids must be transformers'.
const app = dirname(dirname(fileURLToPath(import.meta.url)));
const ARTIFACTS = join(app, 'test-artifacts');
const videoCase = fixtureCases().find((fixtureCase) => fixtureCase.name === 'video')!;
const question = /<video>\n(.*) ASSISTANT:$/s.exec(videoCase.text[0]!)![1]!;
const referenceIds = Array.from(tinyFixture.npy('case_video', 'generated_ids.npy').data as BigInt64Array, Number);
const STEPS = referenceIds.length;
const CHUNK = 256 * 1024;
const original = join(tinyFixture.video, 'sample_48f_320x240.mp4');

let work: string;
let model: string;
let h264: string;
let server: StaticServer;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
const workers: string[] = [];

beforeAll(async () => {
  chromiumPath(); // names CHROMIUM_PATH and tooling/scripts/ensure-browser.sh when there is no Chromium
  work = await mkdtemp(join(tmpdir(), 'video-llava-web-demo-'));
  const site = join(work, 'site');
  await build({
    root: app,
    configFile: join(app, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: site, emptyOutDir: true },
  });
  model = join(work, 'model');
  await convertCheckpoint(tinyFixture.model, model, { externalDataThreshold: 0, externalDataChunkBytes: CHUNK });
  // Lossless H.264, every frame kept: Chromium decodes it within 3 levels of the reference frames, which moves no
  // greedy token of the video case (packages/video-llava/test/web-chromium.test.ts measures both)
  h264 = join(work, 'sample_48f_320x240_h264.mp4');
  transcodeToLosslessH264(await resolveFfmpegPath(), original, h264);
  server = await startStaticServer({
    routes: { '/': { file: join(site, 'index.html'), type: 'text/html; charset=utf-8' } },
    folders: { '/model/': model, '/': site },
    crossOriginIsolated: true,
  });
  // WebGPU on (SwiftShader, a CPU Vulkan): the last test runs the demo on it
  browser = await launchChromium({ webgpu: true, timeout: 30_000 });
  page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(String(error)));
  page.on('worker', (worker) => workers.push(new URL(worker.url()).pathname));
  await page.goto(`${server.origin}?model=/model/&device=wasm&threads=2&greedy=1&max_new_tokens=${STEPS}`);
  await page.waitForSelector('body[data-model]', { state: 'attached', timeout: 240_000 });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Types a question, presses Ask and waits for the answer to finish. */
async function ask(
  text: string,
  on: Page = page,
): Promise<{ ids: number[]; text: string; reused: number; finishReason: string | undefined }> {
  await on.fill('textarea', text);
  await on.click('[data-action=ask]');
  const answer = on.locator('[data-testid=answer][data-done="true"]');
  await answer.waitFor({ state: 'attached', timeout: 240_000 });
  return {
    ids: JSON.parse((await answer.getAttribute('data-token-ids')) ?? 'null'),
    text: await answer.innerText(),
    reused: Number(await answer.getAttribute('data-reused-tokens')),
    finishReason: (await answer.getAttribute('data-finish-reason')) ?? undefined,
  };
}

describe('apps/web-demo in Chromium', () => {
  it('loads the chunked model from ?model= on WebAssembly with 2 threads, every chunk fetched once, and says so', async () => {
    expect(await page.getAttribute('body', 'data-model'), await page.innerText('[data-testid=model-status]')).toBe(
      'ready',
    );
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await page.innerText('[data-testid=device]')).toBe('device: WebAssembly · 2 threads');
    // onnxruntime-web started its thread from its own chunk of the Vite build
    expect(workers).toEqual([expect.stringMatching(/^\/assets\/ort\.bundle\.min-[\w-]+\.js$/)]);
    expect(await page.getAttribute('[data-testid=device]', 'data-device')).toBe('wasm');
    const chunks = (await readdir(join(model, 'onnx'))).filter((name) =>
      /^decoder_model_merged\.onnx_data(_\d+)?$/.test(name),
    );
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) expect(server.requests.get(`/model/onnx/${chunk}`), chunk).toBe(1);
    expect(await page.innerText('[data-testid=progress]')).toMatch(/files \(.*\) loaded, 3 sessions opened/);
  });

  it('says clearly that it cannot decode the MPEG-4 Part 2 original', async () => {
    await page.setInputFiles('input[type=file][data-testid=media]', original);
    const error = page.locator('[data-testid=media-error]');
    await error.waitFor({ state: 'visible', timeout: 120_000 });
    expect(await error.innerText()).toMatch(/^Cannot decode sample_48f_320x240\.mp4: .*H\.264/s);
    expect(await page.locator('.thumbnail').count()).toBe(0);
  });

  it('shows the 8 sampled frames of the H.264 video, answers with the greedy ids of transformers, and saves a screenshot', async () => {
    await page.setInputFiles('input[type=file][data-testid=media]', h264);
    await page.waitForSelector('body[data-media="ready"]', { state: 'attached', timeout: 120_000 });
    expect(await page.locator('[data-testid=media-error]').isHidden()).toBe(true);
    const captions = await page.locator('.thumbnail figcaption').allInnerTexts();
    const indices = tinyFixture.json<{ indices: number[] }>('video.json').indices;
    expect(captions.map((caption) => Number(/#(\d+)/.exec(caption)?.[1]))).toEqual(indices);
    const first = await ask(question);
    expect(first.ids).toEqual(referenceIds);
    expect(first.finishReason).toBe('length');
    expect(first.text.length).toBeGreaterThan(0);
    expect(await page.innerText('[data-testid=speed]')).toMatch(/^\d+(\.\d+)? tokens\/s$/);
    // A follow-up about the same video: the cached prefix (the video's 2056 tokens and more) is reused
    const second = await ask('And what happens next?');
    expect(second.ids.length).toBe(STEPS);
    expect(second.reused).toBeGreaterThan(2056);
    expect(await page.locator('.turn').count()).toBe(2);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'web-demo.png'), fullPage: true });
  });

  it('cancels a question: the answer ends as cancelled and the next question is answered', async () => {
    await page.fill('textarea', question);
    // Ask and cancel in one task, so the cancel lands before the first token whatever the machine's speed
    await page.evaluate(() => {
      document.querySelector<HTMLButtonElement>('[data-action=ask]')!.click();
      document.querySelector<HTMLButtonElement>('[data-action=cancel]')!.click();
    });
    const cancelled = page.locator('[data-testid=answer][data-done="true"]');
    await cancelled.waitFor({ state: 'attached', timeout: 120_000 });
    expect(await cancelled.getAttribute('data-finish-reason')).toBe('abort');
    expect(await page.locator('.turn').last().innerText()).toMatch(/cancelled/);
    await page.click('[data-action=new-conversation]');
    expect((await ask(question)).ids).toEqual(referenceIds);
  });

  it('loads the same model from a folder on disk (the folder input), every chunk read from the files: the reference ids', async () => {
    const served = [...server.requests.entries()].filter(([path]) => path.startsWith('/model/'));
    await page.evaluate(() => document.body.removeAttribute('data-model'));
    await page.setInputFiles('[data-testid=model-folder]', model);
    await page.waitForSelector('body[data-model]', { state: 'attached', timeout: 240_000 });
    expect(await page.getAttribute('body', 'data-model'), await page.innerText('[data-testid=model-status]')).toBe(
      'ready',
    );
    expect(await page.innerText('[data-testid=model-status]')).toMatch(/^the folder “model” is ready/);
    // Read from the picked files, not from the server
    expect([...server.requests.entries()].filter(([path]) => path.startsWith('/model/'))).toEqual(served);
    expect(await page.locator('.turn').count()).toBe(0);
    expect((await ask(question)).ids).toEqual(referenceIds);
  });

  it('opens again from the Cache API (no second download), and on WebGPU when asked: the reference ids of a text-only question', async () => {
    const onnxRequests = () => [...server.requests.entries()].filter(([path]) => path.includes('/onnx/'));
    const before = onnxRequests();
    const textOnly = fixtureCases().find((fixtureCase) => fixtureCase.name === 'text_only')!;
    // WebGPU on SwiftShader takes about a second per token of the fixture's 32064-word head: 4 tokens
    const steps = 4;
    // A tab of the same profile (playwright's browser.newPage would open a fresh profile, with an empty cache)
    const gpu = await page.context().newPage();
    gpu.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    gpu.on('pageerror', (error) => consoleErrors.push(String(error)));
    try {
      await gpu.goto(`${server.origin}?model=/model/&device=webgpu&greedy=1&max_new_tokens=${steps}`);
      await gpu.waitForSelector('body[data-model]', { state: 'attached', timeout: 240_000 });
      expect(await gpu.getAttribute('body', 'data-model'), await gpu.innerText('[data-testid=model-status]')).toBe(
        'ready',
      );
      expect(onnxRequests()).toEqual(before);
      expect(await gpu.innerText('[data-testid=device]')).toBe('device: WebGPU');
      const question = /^USER: (.*) ASSISTANT:$/.exec(textOnly.text[0]!)![1]!;
      const reference = Array.from(
        tinyFixture.npy('case_text_only', 'generated_ids.npy').data as BigInt64Array,
        Number,
      );
      expect((await ask(question, gpu)).ids).toEqual(reference.slice(0, steps));
    } finally {
      await gpu.close();
    }
  }, 400_000);

  it('logged no errors in the page but the 404s of the optional model files it looks for', () => {
    expect(consoleErrors.filter((message) => !message.includes('status of 404'))).toEqual([]);
    const missing = [...server.requests.keys()].filter(
      (path) => !path.startsWith('/model/') && path !== '/' && !path.startsWith('/assets/'),
    );
    expect(missing, 'everything the page asked for outside the model folder is the built app').toEqual([]);
  });
});

import { copyFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureDifference, tinyFixture } from '@video-llava/test-utils';
import {
  type StaticServer,
  bundleForBrowser,
  chromiumPath,
  launchChromium,
  startStaticServer,
} from '@video-llava/test-utils/chromium';
import { type TestVideos, makeTestVideos } from '../../test/ffmpeg-fixtures.js';
import { loadVideo as loadVideoWithFfmpeg } from '../node.js';

// The browser entry runs in Debian's chromium (headless, driven by playwright-core): WebCodecs + mediabunny, and
// the <video> fallback. CI needs `apt-get install -y chromium` (or CHROMIUM_PATH pointing at a Chromium).
const here = dirname(fileURLToPath(import.meta.url));

interface PageResult {
  ok: boolean;
  code?: string;
  message?: string;
  field?: string;
  file?: string;
  actual?: unknown;
  totalFrames?: number;
  indices?: number[];
  fps?: number;
  width?: number;
  height?: number;
  dims?: number[];
  frames?: string;
  warnings?: string[];
}

let videos: TestVideos;
let server: StaticServer;
let browser: Browser;
let page: Page;
let origin: string;

beforeAll(async () => {
  chromiumPath(); // throws, naming CHROMIUM_PATH and tooling/scripts/ensure-browser.sh, when there is no Chromium
  videos = await makeTestVideos();
  const script = await bundleForBrowser(join(here, '../../test/browser-page.ts'));
  // the videos untyped and without byte ranges: the decoders get each file whole
  server = await startStaticServer({
    routes: {
      '/': { body: '<!doctype html><script type="module" src="/page.js"></script>', type: 'text/html' },
      '/page.js': { body: script, type: 'text/javascript' },
    },
    resolve: (path) =>
      path.startsWith('/videos/')
        ? { file: join(videos.directory, basename(path)), type: 'application/octet-stream' }
        : undefined,
    ranges: false,
  });
  origin = server.origin.replace(/\/$/, '');
  browser = await launchChromium({ args: ['--autoplay-policy=no-user-gesture-required'] });
  page = await browser.newPage();
  // http://127.0.0.1 is a secure context, where WebCodecs exists
  await page.goto(origin);
  await page.waitForFunction(() => 'runLoadVideo' in globalThis);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  videos?.remove();
});

function run(
  file: string,
  options: Record<string, unknown> = {},
  as: 'blob' | 'bytes' | 'url' = 'blob',
): Promise<PageResult> {
  return page.evaluate(
    ([url, options, as]) =>
      (
        globalThis as unknown as { runLoadVideo: (url: string, options: unknown, as: string) => Promise<PageResult> }
      ).runLoadVideo(url, options, as),
    [`${origin}/videos/${basename(file)}`, options, as] as const,
  );
}

function framesOf(result: PageResult): Uint8Array {
  return new Uint8Array(Buffer.from(result.frames!, 'base64'));
}

describe('browser loadVideo (chromium)', () => {
  it('runs where WebCodecs exists', async () => {
    expect(await page.evaluate(() => (globalThis as unknown as { hasWebCodecs: boolean }).hasWebCodecs)).toBe(true);
  });

  for (const decoder of ['webcodecs', 'video-element'] as const) {
    it(`decodes H.264 in MP4 with ${decoder}: the same frames as FFmpeg by index (mean abs difference <= 1 level)`, async () => {
      const reference = await loadVideoWithFfmpeg(videos.h264);
      const result = await run(videos.h264, { decoder });
      expect(result.ok, result.message).toBe(true);
      expect(result.totalFrames).toBe(30);
      expect(result.fps).toBeCloseTo(10, 6);
      expect(result.indices).toEqual(reference.indices);
      expect(result.dims).toEqual(reference.frames.dims);
      // Chromium converts YUV to RGB itself (Skia) where FFmpeg uses swscale, both BT.601 here: levels differ by
      // about half a level on average (measured 0.50), the frames themselves not at all
      const difference = measureDifference(framesOf(result), reference.frames.data as Uint8Array);
      expect(difference.meanAbsDifference).toBeLessThanOrEqual(1);
      // a neighbouring frame is much further away: the frames are the right ones
      const neighbour = await loadVideoWithFfmpeg(videos.h264, {
        indices: reference.indices.map((index) => index + 1),
      });
      expect(
        measureDifference(framesOf(result), neighbour.frames.data as Uint8Array).meanAbsDifference,
      ).toBeGreaterThan(difference.meanAbsDifference * 2);
    });
  }

  it('decodes VP9 in WebM, from bytes and from a URL, and sees the edit list like FFmpeg', async () => {
    const vp9 = await run(videos.vp9, { numFrames: 3 }, 'bytes');
    expect(vp9.ok, vp9.message).toBe(true);
    expect(vp9.totalFrames).toBe(12);
    expect(vp9.dims).toEqual([3, 48, 64, 3]);
    const reference = await loadVideoWithFfmpeg(videos.vp9, { numFrames: 3 });
    expect(measureDifference(framesOf(vp9), reference.frames.data as Uint8Array).meanAbsDifference).toBeLessThanOrEqual(
      1,
    );
    const fromUrl = await run(videos.h264, { indices: [29, 0] }, 'url');
    expect(fromUrl.ok, fromUrl.message).toBe(true);
    expect(fromUrl.dims).toEqual([2, 240, 320, 3]);
    const editList = await run(videos.editList, { numFrames: 8 });
    expect(editList.ok, editList.message).toBe(true);
    const editListReference = await loadVideoWithFfmpeg(videos.editList);
    expect(editList.totalFrames).toBe(editListReference.totalFrames);
    expect(editList.indices).toEqual(editListReference.indices);
    expect(
      measureDifference(framesOf(editList), editListReference.frames.data as Uint8Array).meanAbsDifference,
    ).toBeLessThanOrEqual(1);
  });

  it("says so when the browser cannot decode the codec: the fixture's MPEG-4 Part 2 video in chromium", async () => {
    // Chromium has no MPEG-4 Part 2 decoder, in WebCodecs or in <video>: decode such videos in Node
    const fixture = join(videos.directory, 'sample_48f_320x240.mp4');
    copyFileSync(join(tinyFixture.video, 'sample_48f_320x240.mp4'), fixture);
    for (const decoder of ['auto', 'webcodecs', 'video-element'] as const) {
      const result = await run(fixture, { decoder });
      expect(result, decoder).toMatchObject({
        ok: false,
        code: 'UNSUPPORTED',
        field: 'codec',
        actual: 'mp4v',
        file: 'sample_48f_320x240.mp4',
      });
      expect(result.message, decoder).toContain('mp4v video');
    }
  });

  it('refuses bad input with errors naming the file', async () => {
    const text = await run(videos.text);
    expect(text).toMatchObject({ ok: false, code: 'INVALID_FILE', file: basename(videos.text) });
    expect(text.message).toContain(basename(videos.text));
    const empty = await run(videos.empty);
    expect(empty).toMatchObject({ ok: false, code: 'INVALID_FILE', file: basename(videos.empty) });
    const audio = await run(videos.audioOnly);
    expect(audio).toMatchObject({
      ok: false,
      code: 'INVALID_FILE',
      field: 'video stream',
      file: basename(videos.audioOnly),
    });
    expect(audio.message).toContain('no video stream');
  });

  it('samples a clip shorter than numFrames with repeated frames and a FRAMES_REPEATED warning, as the Node loader does', async () => {
    const short = await run(videos.short, { numFrames: 8 });
    expect(short).toMatchObject({
      ok: true,
      totalFrames: 5,
      indices: [0, 0, 1, 1, 2, 3, 3, 4],
      dims: [8, 48, 64, 3],
      warnings: ['FRAMES_REPEATED'],
    });
  });
});

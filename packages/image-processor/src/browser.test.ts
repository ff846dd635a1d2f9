import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageProcessorConfig } from '@video-llava/config';
import { loadPretrainedConfigFrom } from '@video-llava/config/node';
import { Tensor } from '@video-llava/core';
import { assertClose, tinyFixture } from '@video-llava/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageResult, SourceKind } from '../test/browser-entry.js';
import { fileBytes, openBrowserPage, type BrowserPage } from '../test/chromium-page.js';
import { packRow, writePng } from '../test/png-writer.js';

// The browser entry in headless Debian chromium (playwright-core, no browser download). PNG is decoded by the
// package itself, so PNG pixel values must match the reference within 1e-5 (measured: 0); the JPEG goes through
// chromium's decoder (libjpeg-turbo), whose difference to PIL is measured and bounded below.
const PIXEL_TOLERANCE = 1e-5;

const images = readdirSync(tinyFixture.images).sort();
const files = new Map<string, Uint8Array>(
  images.map((file) => [`/images/${file}`, fileBytes(join(tinyFixture.images, file))]),
);
const landscape = files.get('/images/landscape_640x480.png')!;
files.set('/bad/empty.png', new Uint8Array(0));
files.set('/bad/notes.png', new TextEncoder().encode('hello, this is text\n'));
files.set('/bad/truncated.png', landscape.subarray(0, Math.floor(landscape.length / 2)));
files.set(
  '/bad/huge.png',
  writePng({
    width: 1,
    height: 1,
    bitDepth: 8,
    colorType: 2,
    rows: [],
    headerSize: { width: 100_000, height: 100_000 },
    headerOnly: true,
  }),
);
files.set(
  '/bad/one-pixel.png',
  writePng({ width: 1, height: 1, bitDepth: 8, colorType: 2, rows: [packRow([10, 20, 30], 8)] }),
);

let browser: BrowserPage;
let config: ImageProcessorConfig;

beforeAll(async () => {
  config = (await loadPretrainedConfigFrom(tinyFixture.model)).processor.imageProcessor;
  browser = await openBrowserPage(files);
});
afterAll(async () => {
  await browser?.close();
});

async function inPage(path: string, kind: SourceKind = 'url', withConfig = true): Promise<PageResult> {
  return browser.page.evaluate(
    ([path, kind, config]) =>
      (
        globalThis as unknown as { imageProcessor: { run(...args: unknown[]): Promise<PageResult> } }
      ).imageProcessor.run(path, kind, config),
    [path, kind, withConfig ? config : null] as const,
  );
}

function pixelTensor(result: PageResult): Tensor<'float32'> {
  const bytes = Buffer.from(result.pixelValues!, 'base64');
  return new Tensor('float32', new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4), result.dims!);
}

describe('browser loadImage + VideoLlavaImageProcessor in chromium', () => {
  it.each(images.filter((file) => file.endsWith('.png')))(
    '%s: pixel values within 1e-5 of the reference',
    async (file) => {
      const result = await inPage(`/images/${file}`);
      expect(result.error).toBeUndefined();
      const difference = assertClose(
        pixelTensor(result),
        tinyFixture.npy('pixel_values', `${file}.npy`),
        PIXEL_TOLERANCE,
        `${file} (browser)`,
      );
      expect(difference.maxAbsDifference).toBe(0);
    },
  );

  it('keeps PIL modes for PNG (grey, palette, alpha), as in Node', async () => {
    expect((await inPage('/images/gray_256x256.png', 'url', false)).mode).toBe('L');
    expect((await inPage('/images/palette_200x150.png', 'url', false)).mode).toBe('P');
    expect((await inPage('/images/rgba_333x222.png', 'url', false)).mode).toBe('RGBA');
  });

  it('photo_512x384.jpg: chromium decodes it within a level of PIL; the pixel values follow', async () => {
    const result = await inPage('/images/photo_512x384.jpg');
    expect(result.error).toBeUndefined();
    const decoded = tinyFixture.npy('decoded_photo_512x384.jpg.npy');
    // Measured with Debian chromium 156: max difference 0 levels (its libjpeg-turbo decodes like PIL's).
    const decodedDifference = assertClose(
      new Uint8Array(Buffer.from(result.rgb!, 'base64')),
      decoded.data as Uint8Array,
      1,
      'decoded JPEG (chromium)',
    );
    // One level of decoding difference moves a normalized value by at most 1 / 255 / min(std) (about 0.0146).
    const tolerance =
      decodedDifference.maxAbsDifference === 0
        ? PIXEL_TOLERANCE
        : 1 / 255 / Math.min(...config.imageStd) + PIXEL_TOLERANCE;
    assertClose(
      pixelTensor(result),
      tinyFixture.npy('pixel_values', 'photo_512x384.jpg.npy'),
      tolerance,
      'photo_512x384.jpg (browser)',
    );
  });

  it.each(['blob', 'bytes', 'arraybuffer'] as const)('takes a %s as well as a URL', async (kind) => {
    const result = await inPage('/images/small_100x80.png', kind);
    expect(result.error).toBeUndefined();
    assertClose(pixelTensor(result), tinyFixture.npy('pixel_values', 'small_100x80.png.npy'), PIXEL_TOLERANCE, kind);
  });

  it('takes ImageData (any ImageBitmapSource) and drops an all-opaque alpha', async () => {
    const result = await inPage('/images/square_224.png', 'imagedata');
    expect(result.mode).toBe('RGB');
    assertClose(
      pixelTensor(result),
      tinyFixture.npy('pixel_values', 'square_224.png.npy'),
      PIXEL_TOLERANCE,
      'ImageData',
    );
  });

  it('a 1x1 image works', async () => {
    const result = await inPage('/bad/one-pixel.png');
    expect(result.mode).toBe('RGB');
    expect(result.dims).toEqual([1, 3, config.cropSize.height, config.cropSize.width]);
  });

  it.each([
    ['/bad/missing.png', 'FILE_NOT_FOUND', /the server answered 404/],
    ['/bad/empty.png', 'INVALID_FILE', /the file is empty \(0 bytes\)/],
    ['/bad/notes.png', 'INVALID_FILE', /not an image this package reads/],
    ['/bad/truncated.png', 'DECODE_FAILED', /truncated/],
    ['/bad/huge.png', 'OUT_OF_MEMORY', /100000x100000 .*refused before decoding/],
  ])('%s: %s naming the file', async (path, code, message) => {
    const { error } = await inPage(path);
    expect(error?.code).toBe(code);
    expect(error?.file).toBe(path);
    expect(error?.message).toContain(path);
    expect(error?.message).toMatch(message);
  });
});

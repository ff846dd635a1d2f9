import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { VideoLlavaError } from '@video-llava/core';
import { tinyFixture } from '@video-llava/test-utils';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { packRow, writePng } from '../test/png-writer.js';
import { convertToRgb } from './convert-to-rgb.js';
import { loadImage, readImageHeader } from './node.js';

const folder = mkdtempSync(join(tmpdir(), 'image-processor-test-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function put(name: string, bytes: Uint8Array | string): string {
  const path = join(folder, name);
  writeFileSync(path, bytes);
  return path;
}

/** The error `promise` rejects with; fails the test when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<VideoLlavaError> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(VideoLlavaError.isInstance(outcome), `expected a VideoLlavaError, got ${String(outcome)}`).toBe(true);
  return outcome as VideoLlavaError;
}

const fixture = (name: string) => join(tinyFixture.images, name);

describe('loadImage (Node): formats', () => {
  it('reads a path, a file: URL and bytes alike', async () => {
    const path = fixture('small_100x80.png');
    const [fromPath, fromUrl, fromBytes] = await Promise.all([
      loadImage(path),
      loadImage(pathToFileURL(path)),
      loadImage(readFileSync(path)),
    ]);
    expect(fromPath.toString()).toBe('RawImage(RGB 100x80)');
    expect(Buffer.from(fromUrl.data).equals(Buffer.from(fromPath.data))).toBe(true);
    expect(Buffer.from(fromBytes.data).equals(Buffer.from(fromPath.data))).toBe(true);
  });

  it('reads a lossless WebP to the pixels it was made from', async () => {
    const source = await loadImage(fixture('odd_225x333.png'));
    const webp = await sharp(source.data, { raw: { width: source.width, height: source.height, channels: 3 } })
      .webp({ lossless: true })
      .toBuffer();
    const image = await loadImage(put('odd.webp', webp));
    expect(image.mode).toBe('RGB');
    expect(Buffer.from(image.data).equals(Buffer.from(source.data))).toBe(true);
  });

  it('reads the first frame of an animated GIF', async () => {
    const frame = (value: number) =>
      sharp(Buffer.alloc(6 * 4 * 3, value), { raw: { width: 6, height: 4, channels: 3 } })
        .png()
        .toBuffer();
    const gif = await sharp([await frame(40), await frame(200)], { join: { animated: true } })
      .gif()
      .toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);
    const image = await loadImage(put('two-frames.gif', gif));
    expect([image.width, image.height]).toEqual([6, 4]);
    const rgb = convertToRgb(image).data;
    expect(rgb.every((value) => value === rgb[0])).toBe(true);
    expect(Math.abs(rgb[0]! - 40)).toBeLessThanOrEqual(2);
  });

  it('reads a grey JPEG as mode L (as PIL) with the values libjpeg gives', async () => {
    const grey = Uint8Array.from({ length: 32 * 24 }, (_, index) => (index * 37) % 256);
    const jpeg = await sharp(grey, { raw: { width: 32, height: 24, channels: 1 } })
      .toColourspace('b-w')
      .jpeg({ quality: 95 })
      .toBuffer();
    const image = await loadImage(put('grey.jpg', jpeg));
    expect(image.mode).toBe('L');
    const widened = await sharp(jpeg).raw().toBuffer();
    expect([...convertToRgb(image).data]).toEqual([...widened]);
  });

  it('reads the header without decoding', () => {
    expect(readImageHeader(readFileSync(fixture('photo_512x384.jpg')))).toEqual({
      format: 'jpeg',
      width: 512,
      height: 384,
      channels: 3,
    });
    expect(readImageHeader(readFileSync(fixture('palette_200x150.png')))).toEqual({
      format: 'png',
      width: 200,
      height: 150,
      channels: 1,
    });
  });
});

describe('loadImage (Node): bad input, each a VideoLlavaError naming the file', () => {
  it('a missing file: FILE_NOT_FOUND', async () => {
    const path = join(folder, 'does-not-exist.png');
    const error = await rejection(loadImage(path));
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.file).toBe(path);
    expect(error.message).toContain(path);
  });

  it('a folder: INVALID_FILE', async () => {
    const path = join(folder, 'a-folder.png');
    mkdirSync(path);
    const error = await rejection(loadImage(path));
    expect(error.code).toBe('INVALID_FILE');
    expect(error.message).toContain(path);
  });

  it('zero bytes: INVALID_FILE saying it is empty', async () => {
    const path = put('empty.png', new Uint8Array(0));
    const error = await rejection(loadImage(path));
    expect(error.code).toBe('INVALID_FILE');
    expect(error.message).toMatch(/empty\.png: the file is empty \(0 bytes\)/);
  });

  it('a text file named .png: INVALID_FILE quoting its first bytes', async () => {
    const path = put('notes.png', 'hello, this is text\n');
    const error = await rejection(loadImage(path));
    expect(error.code).toBe('INVALID_FILE');
    expect(error.file).toBe(path);
    expect(error.message).toMatch(
      /notes\.png: not an image this package reads \(PNG, JPEG, WebP or GIF\); it starts with "hello, this is t/,
    );
  });

  it.each([
    ['in the pixel data', 0.5],
    ['in the header', 20],
  ])('a PNG truncated %s: DECODE_FAILED', async (_, cut) => {
    const bytes = readFileSync(fixture('landscape_640x480.png'));
    const length = cut < 1 ? Math.floor(bytes.length * cut) : cut;
    const path = put(`truncated-${length}.png`, bytes.subarray(0, length));
    const error = await rejection(loadImage(path));
    expect(error.code).toBe('DECODE_FAILED');
    expect(error.file).toBe(path);
    expect(error.message).toMatch(/truncated/);
  });

  it('a truncated JPEG: DECODE_FAILED, not an image padded with grey', async () => {
    const bytes = readFileSync(fixture('photo_512x384.jpg'));
    const path = put('truncated.jpg', bytes.subarray(0, Math.floor(bytes.length / 2)));
    const error = await rejection(loadImage(path));
    expect(error.code).toBe('DECODE_FAILED');
    expect(error.message).toContain(path);
  });

  it('a 1x1 image works: a 1x1 RGB image', async () => {
    const path = put(
      'one-pixel.png',
      writePng({ width: 1, height: 1, bitDepth: 8, colorType: 2, rows: [new Uint8Array([10, 20, 30])] }),
    );
    const image = await loadImage(path);
    expect(image.toString()).toBe('RawImage(RGB 1x1)');
    expect([...image.data]).toEqual([10, 20, 30]);
  });

  const huge: Array<[string, () => Uint8Array]> = [
    // Header only: were it decoded, the missing pixel data would give DECODE_FAILED instead.
    [
      'PNG 100000x100000',
      () =>
        writePng({
          width: 1,
          height: 1,
          bitDepth: 8,
          colorType: 2,
          rows: [],
          headerSize: { width: 100_000, height: 100_000 },
          headerOnly: true,
        }),
    ],
    // SOI, then a baseline frame header claiming 65500x65500 with 3 components, then EOI.
    [
      'JPEG 65500x65500',
      () =>
        new Uint8Array([
          0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0xff, 0xdc, 0xff, 0xdc, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1,
          0xff, 0xd9,
        ]),
    ],
    [
      'GIF 65535x65535',
      () => new Uint8Array([...'GIF89a'].map((c) => c.charCodeAt(0)).concat([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0x3b])),
    ],
    [
      'WebP 16777216x16777216',
      () => {
        const bytes = new Uint8Array(30);
        bytes.set(
          [...'RIFF'].map((c) => c.charCodeAt(0)),
          0,
        );
        bytes.set([22, 0, 0, 0], 4);
        bytes.set(
          [...'WEBPVP8X'].map((c) => c.charCodeAt(0)),
          8,
        );
        bytes.set([10, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 16);
        return bytes;
      },
    ],
  ];

  it.each(huge)('a %s header: OUT_OF_MEMORY before anything is allocated', async (name, make) => {
    const path = put(`huge-${name.split(' ')[0]}`, make());
    const error = await rejection(loadImage(path));
    expect(error.code).toBe('OUT_OF_MEMORY');
    expect(error.field).toBe('maxPixels');
    expect(error.message).toContain(path);
    expect(error.message).toMatch(/refused before decoding/);
  });

  it("maxPixels is the caller's to set", async () => {
    const error = await rejection(loadImage(fixture('landscape_640x480.png'), { maxPixels: 640 * 480 - 1 }));
    expect(error.code).toBe('OUT_OF_MEMORY');
    expect((await loadImage(fixture('landscape_640x480.png'), { maxPixels: 640 * 480 })).width).toBe(640);
  });

  it('a value that is no path or bytes: INVALID_ARGUMENT', async () => {
    const error = await rejection(loadImage(42 as unknown as string));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.field).toBe('pathOrBytes');
  });

  it('16-bit grey via the processor path keeps PIL semantics too', async () => {
    const path = put(
      'grey16.png',
      writePng({ width: 2, height: 1, bitDepth: 16, colorType: 0, rows: [packRow([100, 5000], 16)] }),
    );
    expect([...(await loadImage(path)).data]).toEqual([100, 255]);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tinyFixture } from '@video-llava/test-utils';
import {
  fc,
  hostileParameters,
  mutatedBytes,
  parsesOrFailsCleanly,
  parsesOrFailsCleanlyAsync,
} from '@video-llava/test-utils/hostile';
import { describe, expect, it } from 'vitest';
import { writePng } from '../test/png-writer.js';
import { readImageHeader, sniffImageFormat } from './image-header.js';
import { loadImage } from './node.js';

// The hostile-input suite for images (see @video-llava/test-utils/hostile): the sniffing, the header reader and the
// PNG decoder (pure TypeScript) take any bytes and return an image or throw a VideoLlavaError of a known code.
// JPEG, GIF and WebP go to sharp (native), whose errors must come back the same way.

const fixturePng = new Uint8Array(readFileSync(join(tinyFixture.images, 'small_100x80.png')));
const palettePng = new Uint8Array(readFileSync(join(tinyFixture.images, 'palette_200x150.png')));
const fixtureJpeg = new Uint8Array(readFileSync(join(tinyFixture.images, 'photo_512x384.jpg')));
// Small enough for many runs: a 1-bit grey and a 16-bit RGBA PNG made here.
const tinyPngs = [
  writePng({
    width: 3,
    height: 2,
    bitDepth: 1,
    colorType: 0,
    rows: [new Uint8Array([0b10100000]), new Uint8Array([0b01000000])],
  }),
  writePng({
    width: 2,
    height: 2,
    bitDepth: 16,
    colorType: 6,
    rows: [new Uint8Array(16).fill(7), new Uint8Array(16).fill(200)],
  }),
];
const maxPixels = 4096 * 4096;

/** Structurally plausible PNGs (valid chunks and CRCs) with any header: sizes, depths, colour types, rows. */
const craftedPng = fc
  .record({
    width: fc.oneof(fc.integer({ min: 0, max: 9 }), fc.constantFrom(2 ** 31 - 1, 2 ** 32 - 1, 65536)),
    height: fc.oneof(fc.integer({ min: 0, max: 9 }), fc.constantFrom(2 ** 31 - 1, 2 ** 32 - 1)),
    bitDepth: fc.constantFrom(0, 1, 2, 4, 8, 16, 3, 32),
    colorType: fc.constantFrom(0, 2, 3, 4, 6, 1, 5, 7),
    rows: fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 10 }),
    palette: fc.option(fc.uint8Array({ maxLength: 30 }), { nil: undefined }),
    extra: fc.array(
      fc.record({
        type: fc.constantFrom('tRNS', 'gAMA', 'IDAT', 'IHDR', 'PLTE', 'zzzz'),
        data: fc.uint8Array({ maxLength: 20 }),
      }),
      { maxLength: 2 },
    ),
    headerOnly: fc.boolean(),
  })
  .map((parts) => {
    // writePng pads every row to the first row's length: give them one length, as a real encoder would.
    const length = parts.rows[0]?.length ?? 0;
    return writePng({
      ...parts,
      rows: parts.rows.map((row) => Uint8Array.from({ length }, (_, index) => row[index] ?? 0)),
    });
  });

describe('hostile input: image sniffing and headers', () => {
  it('sniffImageFormat and readImageHeader take any bytes', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      mutatedBytes(fixturePng.subarray(0, 64)),
      mutatedBytes(fixtureJpeg.subarray(0, 2048)),
    );
    fc.assert(
      fc.property(bytes, (input) => {
        parsesOrFailsCleanly('sniffImageFormat', () => sniffImageFormat(input));
        const header = parsesOrFailsCleanly('readImageHeader', () => readImageHeader(input, 'fuzz.bin'));
        if (!header.ok) expect(header.error.file).toBe('fuzz.bin');
        else {
          expect(Number.isSafeInteger(header.value.width) && header.value.width > 0).toBe(true);
          expect(Number.isSafeInteger(header.value.height) && header.value.height > 0).toBe(true);
        }
      }),
      hostileParameters(400),
    );
  });
});

describe('hostile input: the PNG decoder', () => {
  it('damaged PNGs decode or fail with DECODE_FAILED / INVALID_FILE / OUT_OF_MEMORY / UNSUPPORTED', async () => {
    const bytes = fc.oneof(
      mutatedBytes(tinyPngs[0]!),
      mutatedBytes(tinyPngs[1]!),
      craftedPng,
      mutatedBytes(fixturePng),
      mutatedBytes(palettePng),
    );
    await fc.assert(
      fc.asyncProperty(bytes, async (input) => {
        const outcome = await parsesOrFailsCleanlyAsync('loadImage(png)', () =>
          loadImage(input, { name: 'fuzz.png', maxPixels }),
        );
        if (outcome.ok) {
          const image = outcome.value;
          expect(image.data.length).toBe(image.width * image.height * image.channels);
        } else {
          expect(['DECODE_FAILED', 'INVALID_FILE', 'OUT_OF_MEMORY', 'UNSUPPORTED']).toContain(outcome.error.code);
          expect(outcome.error.file).toBe('fuzz.png');
        }
      }),
      hostileParameters(300),
    );
  });

  it('damaged JPEGs through sharp fail the same way, never with a raw exception', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedBytes(fixtureJpeg), async (input) => {
        const outcome = await parsesOrFailsCleanlyAsync('loadImage(jpeg)', () =>
          loadImage(input, { name: 'fuzz.jpg', maxPixels }),
        );
        if (!outcome.ok) expect(outcome.error.file).toBe('fuzz.jpg');
      }),
      hostileParameters(25),
    );
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tinyFixture } from '@video-llava/test-utils';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { packRow, writePng } from '../test/png-writer.js';
import { convertToRgb } from './convert-to-rgb.js';
import { loadImage } from './node.js';
import type { RawImage } from './raw-image.js';

/** sharp's (libspng's) decoding of the same bytes, as 8-bit RGB: the independent opinion. */
async function sharpRgb(bytes: Uint8Array): Promise<Uint8Array> {
  const { data } = await sharp(bytes)
    .removeAlpha()
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data);
}

function samples(count: number, maximum: number): number[] {
  return Array.from({ length: count }, (_, index) => (index * 7919 + 13) % (maximum + 1));
}

describe('PNG decoding (keeps PIL modes)', () => {
  it.each([
    ['landscape_640x480.png', 'RGB'],
    ['rgba_333x222.png', 'RGBA'],
    ['gray_256x256.png', 'L'],
    ['palette_200x150.png', 'P'],
  ])('%s decodes as mode %s, and its RGB agrees with libspng (sharp)', async (file, mode) => {
    const bytes = readFileSync(join(tinyFixture.images, file));
    const image = await loadImage(bytes, { name: file });
    expect(image.mode).toBe(mode);
    if (mode === 'P') expect(image.palette?.length).toBe(768);
    expect(Buffer.from(convertToRgb(image).data).equals(Buffer.from(await sharpRgb(bytes)))).toBe(true);
  });

  it.each([1, 2, 4, 8])('reads %i-bit grey as mode L scaled to 0..255 like PIL (and libspng)', async (bitDepth) => {
    const width = 13;
    const rows = [0, 1, 2].map((row) =>
      packRow(
        samples(width, (1 << bitDepth) - 1).map((value, index) => (value + row * index) % (1 << bitDepth)),
        bitDepth,
      ),
    );
    const bytes = writePng({ width, height: 3, bitDepth, colorType: 0, rows });
    const image = await loadImage(bytes);
    expect(image.mode).toBe('L');
    const expected = await sharp(bytes).toColourspace('b-w').raw().toBuffer();
    expect([...image.data]).toEqual([...expected]);
  });

  it('reads 16-bit grey as PIL does (mode I;16, whose RGB conversion clips at 255)', async () => {
    const values = [0, 1, 200, 255, 256, 1000, 65535, 300];
    const bytes = writePng({
      width: values.length,
      height: 1,
      bitDepth: 16,
      colorType: 0,
      rows: [packRow(values, 16)],
    });
    const image = await loadImage(bytes);
    expect(image.mode).toBe('L');
    // Pillow's I16_RGB: the low byte when the high byte is 0, else 255.
    expect([...image.data]).toEqual(values.map((value) => Math.min(value, 255)));
  });

  it('reads 16-bit RGB and RGBA by their high bytes, like PIL and libspng', async () => {
    const width = 6;
    for (const [colorType, channels] of [
      [2, 3],
      [6, 4],
    ] as const) {
      const rows = [0, 1].map((row) =>
        packRow(
          samples(width * channels, 65535).map((value) => (value * (row + 3)) % 65536),
          16,
        ),
      );
      const bytes = writePng({ width, height: 2, bitDepth: 16, colorType, rows });
      const image = await loadImage(bytes);
      expect(image.mode).toBe(channels === 3 ? 'RGB' : 'RGBA');
      const { data } = await sharp(bytes)
        .toColourspace('rgb16')
        .raw({ depth: 'ushort' })
        .toBuffer({ resolveWithObject: true });
      const wide = new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
      expect([...image.data]).toEqual([...wide].map((value) => value >> 8));
    }
  });

  it.each([1, 2, 4, 8])('reads %i-bit palette images as mode P with their palette', async (bitDepth) => {
    const entries = Math.min(1 << bitDepth, 7);
    const palette = new Uint8Array(samples(entries * 3, 255));
    const width = 11;
    const rows = [0, 1, 2].map((row) =>
      packRow(
        samples(width, entries - 1).map((value, index) => (value + row + index) % entries),
        bitDepth,
      ),
    );
    const bytes = writePng({
      width,
      height: 3,
      bitDepth,
      colorType: 3,
      rows,
      palette,
      extra: [{ type: 'tRNS', data: new Uint8Array([0, 128]) }],
    });
    const image = await loadImage(bytes);
    expect(image.mode).toBe('P');
    expect([...image.palette!.subarray(0, palette.length)]).toEqual([...palette]);
    // tRNS is kept aside by PIL and ignored by convert("RGB"): colours come from the palette only.
    expect([...convertToRgb(image).data]).toEqual([...(await sharpRgb(bytes))]);
  });

  it('reads grey+alpha as LA', async () => {
    const width = 9;
    const rows = [0, 1].map((row) =>
      packRow(
        samples(width * 2, 255).map((value) => (value + row * 31) % 256),
        8,
      ),
    );
    const bytes = writePng({ width, height: 2, bitDepth: 8, colorType: 4, rows });
    const image: RawImage = await loadImage(bytes);
    expect(image.mode).toBe('LA');
    expect([...convertToRgb(image).data]).toEqual([...(await sharpRgb(bytes))]);
  });

  it('reads interlaced (Adam7) PNGs to the same pixels as the plain file', async () => {
    const source = readFileSync(join(tinyFixture.images, 'odd_225x333.png'));
    for (const palette of [false, true]) {
      // An odd size, so that the Adam7 passes have partial blocks.
      const interlaced = await sharp(source)
        .extract({ left: 3, top: 5, width: 37, height: 29 })
        .png({ progressive: true, palette })
        .toBuffer();
      const plain = await sharp(interlaced).png({ progressive: false, palette }).toBuffer();
      expect(interlaced[28]).toBe(1);
      const a = convertToRgb(await loadImage(new Uint8Array(interlaced)));
      const b = convertToRgb(await loadImage(new Uint8Array(plain)));
      expect(a.width).toBe(37);
      expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    }
  });

  it('refuses a chunk whose CRC does not match, naming the chunk and the file', async () => {
    const bytes = readFileSync(join(tinyFixture.images, 'small_100x80.png'));
    const corrupt = new Uint8Array(bytes);
    corrupt[60]! ^= 0xff; // inside the first IDAT's data
    const error = await loadImage(corrupt, { name: 'corrupt.png' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'DECODE_FAILED', file: 'corrupt.png' });
    expect((error as Error).message).toMatch(/corrupt\.png: .*CRC of chunk "IDAT"/);
  });

  it('refuses image data shorter than the header promises', async () => {
    const bytes = writePng({ width: 4, height: 4, bitDepth: 8, colorType: 0, rows: [packRow([1, 2, 3, 4], 8)] });
    const error = await loadImage(bytes, { name: 'short.png' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'DECODE_FAILED', file: 'short.png' });
    expect((error as Error).message).toMatch(
      /short\.png: the PNG is truncated: its image data gives 5 bytes, 20 expected for 4x4/,
    );
  });

  it('refuses a palette image without a palette and an invalid colour type', async () => {
    const noPalette = writePng({ width: 1, height: 1, bitDepth: 8, colorType: 3, rows: [new Uint8Array([0])] });
    await expect(loadImage(noPalette, { name: 'p.png' })).rejects.toMatchObject({
      code: 'DECODE_FAILED',
      field: 'PLTE',
      file: 'p.png',
    });
    const badType = writePng({ width: 1, height: 1, bitDepth: 8, colorType: 5, rows: [new Uint8Array([0])] });
    await expect(loadImage(badType, { name: 't.png' })).rejects.toMatchObject({
      code: 'DECODE_FAILED',
      field: 'IHDR.colorType',
    });
  });
});

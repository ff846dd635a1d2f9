import { describe, expect, it } from 'vitest';
import { centerCrop } from './center-crop.js';
import { RawImage } from './raw-image.js';

/** An L image whose pixel at (x, y) is `y * 16 + x`, so every crop can be read back by position. */
function positions(width: number, height: number): RawImage {
  return new RawImage(
    Uint8Array.from({ length: width * height }, (_, index) => Math.floor(index / width) * 16 + (index % width)),
    width,
    height,
    'L',
  );
}

function rowsOf(image: RawImage): number[][] {
  return Array.from({ length: image.height }, (_, y) => [
    ...image.data.subarray(y * image.width, (y + 1) * image.width),
  ]);
}

describe('centerCrop (transformers center_crop)', () => {
  it('returns the image itself when the size is already right', () => {
    const image = positions(4, 3);
    expect(centerCrop(image, 3, 4)).toBe(image);
  });

  it('starts at floor(difference / 2): an odd extra row or column is left out at the bottom or right', () => {
    // 5x5 -> 4x2: top = floor(3 / 2) = 1, left = floor(1 / 2) = 0.
    expect(rowsOf(centerCrop(positions(5, 5), 2, 4))).toEqual([
      [16, 17, 18, 19],
      [32, 33, 34, 35],
    ]);
  });

  it('pads a smaller image with zeros, ceil(padding / 2) before it', () => {
    // 2x1 image into 5 wide x 4 high: 3 columns of padding (2 left, 1 right), 3 rows (2 above, 1 below).
    const out = centerCrop(new RawImage(new Uint8Array([7, 9]), 2, 1, 'L'), 4, 5);
    expect(rowsOf(out)).toEqual([
      [0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0],
      [0, 0, 7, 9, 0],
      [0, 0, 0, 0, 0],
    ]);
  });

  it('crops one side and pads the other when the image is wider but shorter than the window', () => {
    // 6x1 into 3 wide x 3 high: left = floor(3 / 2) = 1; one row of padding above (ceil(2 / 2)) and one below.
    const out = centerCrop(positions(6, 1), 3, 3);
    expect(rowsOf(out)).toEqual([
      [0, 0, 0],
      [1, 2, 3],
      [0, 0, 0],
    ]);
  });

  it('keeps every channel of a pixel together, and the palette of a P image', () => {
    const rgb = new RawImage(
      Uint8Array.from({ length: 3 * 3 * 3 }, (_, index) => index),
      3,
      3,
      'RGB',
    );
    expect([...centerCrop(rgb, 1, 1).data]).toEqual([12, 13, 14]);
    const palette = new Uint8Array([5, 6, 7]);
    const indexed = new RawImage(new Uint8Array(9), 3, 3, 'P', { palette });
    expect(centerCrop(indexed, 2, 2).palette?.subarray(0, 3)).toEqual(palette);
  });

  it('refuses sizes that are not positive integers', () => {
    expect(() => centerCrop(positions(2, 2), 0, 2)).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'height' }),
    );
  });
});

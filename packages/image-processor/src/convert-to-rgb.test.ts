import { describe, expect, it } from 'vitest';
import { convertToRgb } from './convert-to-rgb.js';
import { RawImage } from './raw-image.js';

describe('convertToRgb (PIL convert("RGB"))', () => {
  it('returns an RGB image itself', () => {
    const image = new RawImage(new Uint8Array(3), 1, 1, 'RGB');
    expect(convertToRgb(image)).toBe(image);
  });

  it('copies grey into the three channels, dropping alpha of LA', () => {
    expect([...convertToRgb(new RawImage(new Uint8Array([5, 250]), 2, 1, 'L')).data]).toEqual([5, 5, 5, 250, 250, 250]);
    expect([...convertToRgb(new RawImage(new Uint8Array([5, 0, 250, 128]), 2, 1, 'LA')).data]).toEqual([
      5, 5, 5, 250, 250, 250,
    ]);
  });

  it('drops RGBA alpha without compositing: a transparent pixel keeps its colour', () => {
    const image = new RawImage(new Uint8Array([200, 100, 50, 0, 1, 2, 3, 255]), 2, 1, 'RGBA');
    expect([...convertToRgb(image).data]).toEqual([200, 100, 50, 1, 2, 3]);
  });

  it('looks palette indices up; indices past a short palette are black, as in Pillow', () => {
    const image = new RawImage(new Uint8Array([1, 0, 2]), 3, 1, 'P', {
      palette: new Uint8Array([10, 20, 30, 40, 50, 60]),
    });
    expect([...convertToRgb(image).data]).toEqual([40, 50, 60, 10, 20, 30, 0, 0, 0]);
  });
});

describe('RawImage', () => {
  it('takes channels or a mode, and refuses data of the wrong length or a palette where none belongs', () => {
    expect(new RawImage(new Uint8Array(8), 2, 2, 2).mode).toBe('LA');
    expect(new RawImage(new Uint8Array(12), 2, 2).mode).toBe('RGB');
    expect(() => new RawImage(new Uint8Array(11), 2, 2, 'RGB')).toThrowError(
      expect.objectContaining({ code: 'SHAPE_MISMATCH', field: 'data', expected: 12, actual: 11 }),
    );
    expect(() => new RawImage(new Uint8Array(4), 2, 2, 'P')).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'palette' }),
    );
    expect(() => new RawImage(new Uint8Array(4), 2, 2, 'L', { palette: new Uint8Array(3) })).toThrowError(
      expect.objectContaining({ field: 'palette' }),
    );
    expect(() => new RawImage(new Uint8Array(0), 0, 2, 'L')).toThrowError(expect.objectContaining({ field: 'width' }));
    expect(() => new RawImage(new Uint8Array(10), 2, 1, 5 as 3)).toThrowError(
      expect.objectContaining({ field: 'channels' }),
    );
  });
});

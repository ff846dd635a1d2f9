import { describe, expect, it } from 'vitest';
import { getResizeSize } from './resize-size.js';

describe('getResizeSize (transformers get_resize_output_image_size, default_to_square=False)', () => {
  it('sets the shorter edge and truncates the longer one like Python int()', () => {
    // 640x480: short 480 -> 224, long int(224 * 640 / 480) = int(298.67) = 298.
    expect(getResizeSize({ width: 640, height: 480 }, { shortestEdge: 224 })).toEqual({ height: 224, width: 298 });
    // portrait 225x333: short 225 -> 224, long int(224 * 333 / 225) = int(331.52) = 331.
    expect(getResizeSize({ width: 225, height: 333 }, { shortestEdge: 224 })).toEqual({ height: 331, width: 224 });
    // upscaling 100x80: int(224 * 100 / 80) = 280.
    expect(getResizeSize({ width: 100, height: 80 }, { shortestEdge: 224 })).toEqual({ height: 224, width: 280 });
  });

  it('makes a square image square, and a 1x1 image shortestEdge square', () => {
    expect(getResizeSize({ width: 224, height: 224 }, { shortestEdge: 224 })).toEqual({ height: 224, width: 224 });
    expect(getResizeSize({ width: 1, height: 1 }, { shortestEdge: 224 })).toEqual({ height: 224, width: 224 });
    expect(getResizeSize({ width: 1, height: 3 }, { shortestEdge: 5 })).toEqual({ height: 15, width: 5 });
  });

  it('returns an explicit height and width as they are', () => {
    expect(getResizeSize({ width: 640, height: 480 }, { height: 100, width: 30 })).toEqual({ height: 100, width: 30 });
  });

  it('honours maxSize on the longer edge', () => {
    // 1000x100 at shortest 224 would be 2240 long; maxSize 500 gives int(500 * 224 / 2240) = 50 short.
    expect(getResizeSize({ width: 1000, height: 100 }, { shortestEdge: 224 }, { maxSize: 500 })).toEqual({
      height: 50,
      width: 500,
    });
    expect(() => getResizeSize({ width: 10, height: 10 }, { shortestEdge: 224 }, { maxSize: 224 })).toThrowError(
      expect.objectContaining({ field: 'maxSize' }),
    );
  });

  it('refuses sizes that are not positive integers, naming the field', () => {
    expect(() => getResizeSize({ width: 0, height: 4 }, { shortestEdge: 2 })).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'image.width' }),
    );
    expect(() => getResizeSize({ width: 4, height: 4 }, { shortestEdge: 1.5 })).toThrowError(
      expect.objectContaining({ field: 'size.shortestEdge' }),
    );
  });
});

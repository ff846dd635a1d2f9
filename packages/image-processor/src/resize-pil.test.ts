import { describe, expect, it } from 'vitest';
import { RawImage } from './raw-image.js';
import { RESAMPLE_KERNELS, resampleFilterFromPilCode } from './resample-filter.js';
import { centerCrop } from './center-crop.js';
import { resizeBicubicPil, resizePil, resizePilWindow } from './resize-pil.js';

function noiseImage(width: number, height: number, channels: 1 | 2 | 3 | 4, seed = 1): RawImage {
  const data = new Uint8Array(width * height * channels);
  let state = seed;
  for (let index = 0; index < data.length; index++) {
    state = (state * 1103515245 + 12345) >>> 0;
    data[index] = state >>> 24;
  }
  return new RawImage(data, width, height, channels);
}

/**
 * An independent, textbook antialiased resampler in double precision (no fixed point, no intermediate rounding,
 * only clipping to 0..255 between the passes): the same separable convolution, written without looking at the port. PIL's exact output must stay
 * within a level or two of it; a wrong support, scale or centre would be far off.
 */
function floatResize(image: RawImage, width: number, height: number): Float64Array {
  const kernel = RESAMPLE_KERNELS.bicubic;
  const pass = (length: number, outLength: number) => {
    const scale = length / outLength;
    const stretch = Math.max(scale, 1);
    return Array.from({ length: outLength }, (_, out) => {
      const centre = (out + 0.5) * scale;
      const taps: Array<[number, number]> = [];
      for (let source = 0; source < length; source++) {
        const weight = kernel.weight((source + 0.5 - centre) / stretch);
        if (weight !== 0) taps.push([source, weight]);
      }
      const total = taps.reduce((sum, [, weight]) => sum + weight, 0);
      return taps.map(([source, weight]) => [source, weight / total] as [number, number]);
    });
  };
  const columns = pass(image.width, width);
  const rows = pass(image.height, height);
  const c = image.channels;
  const horizontal = new Float64Array(width * image.height * c);
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < width; x++) {
      for (let channel = 0; channel < c; channel++) {
        const value = columns[x]!.reduce(
          (sum, [source, weight]) => sum + image.data[(y * image.width + source) * c + channel]! * weight,
          0,
        );
        // The intermediate image is 8-bit: what overshoots is clipped before the second pass.
        horizontal[(y * width + x) * c + channel] = Math.min(255, Math.max(0, value));
      }
    }
  }
  const out = new Float64Array(width * height * c);
  for (let y = 0; y < height; y++) {
    for (let index = 0; index < width * c; index++) {
      out[y * width * c + index] = rows[y]!.reduce(
        (sum, [source, weight]) => sum + horizontal[source * width * c + index]! * weight,
        0,
      );
    }
  }
  return out;
}

function maxDifference(actual: Uint8Array, expected: ArrayLike<number>): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  for (let index = 0; index < actual.length; index++) {
    const difference = Math.abs(actual[index]! - Math.min(255, Math.max(0, expected[index]!)));
    max = Math.max(max, difference);
    sum += difference;
  }
  return { max, mean: sum / actual.length };
}

describe('resizePil / resizeBicubicPil (PIL Resample.c port)', () => {
  it('returns the image itself when the size does not change', () => {
    const image = noiseImage(17, 9, 3);
    expect(resizeBicubicPil(image, 17, 9)).toBe(image);
  });

  it('keeps a constant image constant, up and down, at odd sizes, for every convolution filter', () => {
    for (const filter of ['box', 'bilinear', 'hamming', 'bicubic', 'lanczos'] as const) {
      for (const value of [0, 1, 77, 254, 255]) {
        const image = new RawImage(new Uint8Array(31 * 23 * 3).fill(value), 31, 23, 'RGB');
        for (const [width, height] of [
          [7, 5],
          [30, 23],
          [31, 40],
          [101, 3],
          [1, 1],
        ] as const) {
          const out = resizePil(image, width, height, filter);
          expect(
            out.data.every((byte) => byte === value),
            `${filter} ${value} -> ${width}x${height}`,
          ).toBe(true);
        }
      }
    }
  });

  it('upscales a 1x1 image to a constant image of the pixel', () => {
    const out = resizeBicubicPil(new RawImage(new Uint8Array([10, 200, 33]), 1, 1, 'RGB'), 224, 224);
    expect(out.width).toBe(224);
    expect(out.data.every((value, index) => value === [10, 200, 33][index % 3])).toBe(true);
  });

  it.each([
    [64, 48, 31, 29],
    [100, 80, 224, 179],
    [225, 333, 224, 331],
    [13, 7, 40, 3],
  ])('stays within 2 levels of a float reference (%ix%i -> %ix%i)', (width, height, outWidth, outHeight) => {
    const image = noiseImage(width, height, 3, width);
    const out = resizeBicubicPil(image, outWidth, outHeight);
    const { max, mean } = maxDifference(out.data, floatResize(image, outWidth, outHeight));
    // Two roundings to uint8 (one per pass) and 22-bit coefficients: at most a level or two, far less on average.
    expect(max).toBeLessThanOrEqual(2);
    expect(mean).toBeLessThan(0.5);
  });

  it('runs the horizontal pass first and rounds to uint8 after each pass, as PIL does', () => {
    const image = noiseImage(57, 43, 3, 9);
    const direct = resizeBicubicPil(image, 20, 31);
    const horizontalThenVertical = resizeBicubicPil(resizeBicubicPil(image, 20, 43), 20, 31);
    const verticalThenHorizontal = resizeBicubicPil(resizeBicubicPil(image, 57, 31), 20, 31);
    expect(Buffer.from(direct.data).equals(Buffer.from(horizontalThenVertical.data))).toBe(true);
    // The other order rounds differently: the check above is not vacuous.
    expect(Buffer.from(direct.data).equals(Buffer.from(verticalThenHorizontal.data))).toBe(false);
  });

  it('resizes very tall images vertically first (Pillow >= 12.2)', () => {
    const image = noiseImage(2, 301, 1, 4);
    const direct = resizeBicubicPil(image, 1, 100);
    const verticalFirst = resizeBicubicPil(resizeBicubicPil(image, 2, 100), 1, 100);
    expect(Buffer.from(direct.data).equals(Buffer.from(verticalFirst.data))).toBe(true);
  });

  it('treats every channel alike (an RGB resize equals three L resizes)', () => {
    const image = noiseImage(19, 11, 3, 5);
    const out = resizeBicubicPil(image, 8, 23);
    for (let channel = 0; channel < 3; channel++) {
      const plane = new RawImage(
        image.data.filter((_, index) => index % 3 === channel),
        19,
        11,
        'L',
      );
      expect([...resizeBicubicPil(plane, 8, 23).data]).toEqual([
        ...out.data.filter((_, index) => index % 3 === channel),
      ]);
    }
  });

  it('premultiplies RGBA by alpha, so fully transparent colours do not bleed into visible pixels', () => {
    const width = 10;
    const data = new Uint8Array(width * 4 * 4);
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < width; x++) {
        const at = (y * width + x) * 4;
        // Left half: transparent red. Right half: opaque blue.
        data.set(x < 5 ? [255, 0, 0, 0] : [0, 0, 255, 255], at);
      }
    }
    const out = resizeBicubicPil(new RawImage(data, width, 4, 'RGBA'), 7, 4);
    for (let index = 0; index < out.data.length; index += 4) {
      if (out.data[index + 3]! > 0) expect(out.data[index], `red at pixel ${index / 4}`).toBe(0);
    }
    // Without premultiplication red would show: the same data as plain RGB + separate alpha does bleed.
    const rgb = new RawImage(
      data.filter((_, index) => index % 4 !== 3),
      width,
      4,
      'RGB',
    );
    expect(
      resizeBicubicPil(rgb, 7, 4).data.some(
        (value, index) => index % 3 === 0 && value > 0 && Math.floor(index / 3) % 7 >= 3,
      ),
    ).toBe(true);
  });

  it('uses nearest for palette images (as PIL) and keeps the palette', () => {
    const palette = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const image = new RawImage(new Uint8Array([0, 1, 2, 1, 2, 0]), 3, 2, 'P', { palette });
    const out = resizeBicubicPil(image, 6, 4);
    expect(out.mode).toBe('P');
    expect([...out.palette!.subarray(0, 9)]).toEqual([...palette]);
    expect(new Set(out.data)).toEqual(new Set([0, 1, 2]));
  });

  it('nearest samples pixel centres: 2x down picks odd pixels, 2x up repeats each pixel', () => {
    const row = new RawImage(new Uint8Array([10, 11, 12, 13, 14, 15, 16, 17]), 8, 1, 'L');
    // Pillow's ImagingScaleAffine: source x = trunc((x + 0.5) * 8 / 4) = 2x + 1.
    expect([...resizePil(row, 4, 1, 'nearest').data]).toEqual([11, 13, 15, 17]);
    expect([...resizePil(row, 16, 1, 'nearest').data]).toEqual([
      10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15, 16, 16, 17, 17,
    ]);
  });

  it('bilinear halves a two-pixel pattern to its average', () => {
    const image = new RawImage(new Uint8Array([0, 200, 0, 200, 0, 200]), 6, 1, 'L');
    // Downscaling by 2 stretches the triangle to support 2: taps at distances 0.5 and 1.5, weights 3/4 and 1/4.
    const out = resizePil(image, 3, 1, 'bilinear');
    expect(out.data.every((value) => value >= 75 && value <= 125)).toBe(true);
  });

  it("gives Pillow's exact output for every filter, down and up, on a row and on a 5x4 image", () => {
    // Expected values are Pillow 9.4's Image.resize on the same L images. Two are worked by hand here:
    // box 6 -> 4 (scale 1.5, support 0.75): output 0 is centred at 0.75 and takes pixels 0 and 1 with equal weight,
    // (0 + 40) / 2 = 20; output 1 at 2.25 takes pixel 2 alone (90). Bilinear output 0 (support 1.5) takes pixels 0
    // and 1 with triangle weights 0.833 and 0.5, normalised 0.625 and 0.375: 40 * 0.375 = 15.
    const row = new RawImage(Uint8Array.from([0, 40, 90, 160, 200, 255]), 6, 1, 'L');
    const rowExpected: Record<
      'nearest' | 'box' | 'bilinear' | 'hamming' | 'bicubic' | 'lanczos',
      [number[], number[]]
    > = {
      nearest: [
        [0, 90, 160, 255],
        [0, 40, 40, 90, 90, 160, 200, 255, 255],
      ],
      box: [
        [20, 90, 180, 255],
        [0, 40, 40, 90, 160, 160, 200, 255, 255],
      ],
      bilinear: [
        [15, 81, 166, 234],
        [0, 20, 48, 82, 125, 167, 193, 228, 255],
      ],
      hamming: [
        [11, 78, 169, 240],
        [0, 20, 41, 89, 125, 161, 199, 228, 255],
      ],
      bicubic: [
        [11, 76, 170, 239],
        [0, 16, 48, 80, 126, 168, 193, 231, 255],
      ],
      lanczos: [
        [9, 77, 170, 240],
        [0, 15, 48, 81, 126, 167, 191, 233, 255],
      ],
    };
    const grid = new RawImage(
      Uint8Array.from([10, 200, 30, 250, 90, 60, 0, 255, 120, 15, 180, 220, 5, 75, 140, 35, 95, 170, 45, 230]),
      5,
      4,
      'L',
    );
    const gridExpected: Record<keyof typeof rowExpected, number[]> = {
      nearest: [60, 255, 15, 35, 170, 230],
      box: [68, 143, 119, 133, 88, 123],
      bilinear: [82, 132, 110, 115, 107, 121],
      hamming: [65, 139, 103, 123, 98, 134],
      bicubic: [76, 141, 108, 121, 102, 121],
      lanczos: [75, 145, 107, 124, 100, 117],
    };
    for (const [filter, [down, up]] of Object.entries(rowExpected) as [
      keyof typeof rowExpected,
      [number[], number[]],
    ][]) {
      expect(Array.from(resizePil(row, 4, 1, filter).data), `${filter} 6 -> 4`).toEqual(down);
      expect(Array.from(resizePil(row, 9, 1, filter).data), `${filter} 6 -> 9`).toEqual(up);
      expect(Array.from(resizePil(grid, 3, 2, filter).data), `${filter} 5x4 -> 3x2`).toEqual(gridExpected[filter]);
    }
  });

  it('resizePilWindow computes exactly the same pixels as resizing and then cropping', () => {
    for (const [channels, mode] of [
      [3, 'RGB'],
      [1, 'L'],
      [4, 'RGBA'],
    ] as const) {
      const image = noiseImage(47, 39, channels, 11);
      for (const [width, height, window] of [
        [30, 25, { left: 3, top: 2, width: 24, height: 21 }],
        [47, 60, { left: 0, top: 5, width: 47, height: 50 }],
        [80, 39, { left: 9, top: 0, width: 70, height: 39 }],
        [47, 39, { left: 1, top: 1, width: 45, height: 37 }],
        [20, 90, { left: 0, top: 0, width: 20, height: 90 }],
      ] as const) {
        const whole = resizeBicubicPil(image, width, height);
        const cut = centerCrop(whole, window.height, window.width);
        const manual = new Uint8Array(window.width * window.height * channels);
        for (let y = 0; y < window.height; y++) {
          const from = ((window.top + y) * width + window.left) * channels;
          manual.set(whole.data.subarray(from, from + window.width * channels), y * window.width * channels);
        }
        const windowed = resizePilWindow(image, width, height, window);
        expect(windowed.mode).toBe(mode);
        expect(
          Buffer.from(windowed.data).equals(Buffer.from(manual)),
          `${mode} ${width}x${height} ${JSON.stringify(window)}`,
        ).toBe(true);
        if (
          window.left === Math.floor((width - window.width) / 2) &&
          window.top === Math.floor((height - window.height) / 2)
        ) {
          expect(Buffer.from(windowed.data).equals(Buffer.from(cut.data))).toBe(true);
        }
      }
    }
    expect(() => resizePilWindow(noiseImage(4, 4, 1), 8, 8, { left: 5, top: 0, width: 4, height: 4 })).toThrowError(
      expect.objectContaining({ field: 'window' }),
    );
  });

  it('refuses sizes that are not positive integers, naming the argument', () => {
    const image = noiseImage(4, 4, 1);
    expect(() => resizeBicubicPil(image, 0, 4)).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'width' }),
    );
    expect(() => resizeBicubicPil(image, 4, 2.5)).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'height' }),
    );
  });

  it('maps PIL resample codes and refuses unknown ones', () => {
    expect([0, 1, 2, 3, 4, 5].map((code) => resampleFilterFromPilCode(code))).toEqual([
      'nearest',
      'lanczos',
      'bilinear',
      'bicubic',
      'box',
      'hamming',
    ]);
    expect(() => resampleFilterFromPilCode(6)).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'resample' }),
    );
  });
});

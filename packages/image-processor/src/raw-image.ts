import { VideoLlavaError, describeValue } from '@video-llava/core';

/**
 * The pixel layouts a {@link RawImage} can have, named like PIL's modes:
 * - `L`: grey, 1 byte per pixel;
 * - `LA`: grey and alpha, 2 bytes per pixel;
 * - `RGB`: 3 bytes per pixel;
 * - `RGBA`: RGB and (straight, not premultiplied) alpha, 4 bytes per pixel;
 * - `P`: palette: 1 byte per pixel, an index into {@link RawImage.palette}.
 */
export type ImageMode = 'L' | 'LA' | 'RGB' | 'RGBA' | 'P';

/** Bytes per pixel of each {@link ImageMode}. */
export const CHANNELS_OF_MODE: Readonly<Record<ImageMode, 1 | 2 | 3 | 4>> = Object.freeze({
  L: 1,
  LA: 2,
  RGB: 3,
  RGBA: 4,
  P: 1,
});

const MODE_OF_CHANNELS: Readonly<Record<1 | 2 | 3 | 4, ImageMode>> = Object.freeze({
  1: 'L',
  2: 'LA',
  3: 'RGB',
  4: 'RGBA',
});

/** Number of palette entries a `P` image carries (PIL's palettes always have room for 256). */
export const PALETTE_SIZE = 256;

/** Options of the {@link RawImage} constructor. */
export interface RawImageOptions {
  /**
   * The palette of a `P` image: RGB triples, `3 * n` bytes for `n <= 256` entries. Entries not given are black,
   * like PIL's palettes (an index past the palette's end converts to (0, 0, 0)).
   */
  palette?: Uint8Array;
}

function isMode(value: unknown): value is ImageMode {
  return value === 'L' || value === 'LA' || value === 'RGB' || value === 'RGBA' || value === 'P';
}

function checkDimension(name: 'width' | 'height', value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `RawImage ${name} must be a positive integer, found ${describeValue(value)}.`,
      {
        field: name,
        expected: 'a positive integer',
        actual: value,
      },
    );
  }
}

/**
 * An 8-bit image in memory: `height` rows of `width` pixels, each pixel `channels` interleaved bytes (HWC).
 * Immutable by convention: every function of this package returns a new image and never writes into its input.
 *
 * The mode follows PIL, so that conversions reproduce PIL's: a grey PNG stays `L`, a palette PNG stays `P`
 * with its palette, and {@link convertToRgb} then does what `Image.convert("RGB")` does.
 *
 * @example
 * ```ts
 * const image = new RawImage(new Uint8Array(2 * 2 * 3), 2, 2, 'RGB');
 * const grey = new RawImage(bytes, 640, 480, 1); // channels 1 means mode 'L'
 * ```
 */
export class RawImage {
  /** The pixels, row by row, channels interleaved (HWC). For `P`, one palette index per pixel. */
  readonly data: Uint8Array;
  /** Pixels per row. */
  readonly width: number;
  /** Rows. */
  readonly height: number;
  /** Bytes per pixel: 1 (`L`, `P`), 2 (`LA`), 3 (`RGB`) or 4 (`RGBA`). */
  readonly channels: 1 | 2 | 3 | 4;
  /** The pixel layout, named like PIL's modes. */
  readonly mode: ImageMode;
  /** For `P` images: 256 RGB triples (768 bytes). `undefined` for every other mode. */
  readonly palette: Uint8Array | undefined;

  /**
   * @param data HWC bytes, exactly `width * height * channels` of them (kept, not copied)
   * @param width pixels per row, at least 1
   * @param height rows, at least 1
   * @param channelsOrMode the mode, or the number of channels (1 `L`, 2 `LA`, 3 `RGB`, 4 `RGBA`)
   * @param options the palette of a `P` image
   * @throws VideoLlavaError `INVALID_ARGUMENT` when the sizes, the mode or the palette are wrong, or
   *   `SHAPE_MISMATCH` when `data` has the wrong length
   */
  constructor(
    data: Uint8Array,
    width: number,
    height: number,
    channelsOrMode: 1 | 2 | 3 | 4 | ImageMode = 'RGB',
    options: RawImageOptions = {},
  ) {
    checkDimension('width', width);
    checkDimension('height', height);
    let mode: ImageMode;
    if (isMode(channelsOrMode)) {
      mode = channelsOrMode;
    } else if (channelsOrMode === 1 || channelsOrMode === 2 || channelsOrMode === 3 || channelsOrMode === 4) {
      mode = MODE_OF_CHANNELS[channelsOrMode];
    } else {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `RawImage channels must be 1, 2, 3 or 4 or a mode (L, LA, RGB, RGBA, P), found ${describeValue(channelsOrMode)}.`,
        {
          field: 'channels',
          expected: '1, 2, 3, 4, "L", "LA", "RGB", "RGBA" or "P"',
          actual: channelsOrMode,
        },
      );
    }
    if (!(data instanceof Uint8Array)) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `RawImage data must be a Uint8Array, found ${describeValue(data)}.`,
        {
          field: 'data',
          expected: 'Uint8Array',
          actual: (data as object | null | undefined)?.constructor?.name ?? data,
        },
      );
    }
    const channels = CHANNELS_OF_MODE[mode];
    const expected = width * height * channels;
    if (data.length !== expected) {
      throw new VideoLlavaError(
        'SHAPE_MISMATCH',
        `RawImage data has ${data.length} bytes but a ${width}x${height} ${mode} image needs ${expected}.`,
        {
          field: 'data',
          expected,
          actual: data.length,
        },
      );
    }
    let palette: Uint8Array | undefined;
    if (mode === 'P') {
      const given = options.palette;
      if (!(given instanceof Uint8Array) || given.length % 3 !== 0 || given.length > PALETTE_SIZE * 3) {
        throw new VideoLlavaError(
          'INVALID_ARGUMENT',
          `A P (palette) RawImage needs a palette of RGB triples, at most ${PALETTE_SIZE * 3} bytes, found ${describeValue(given)}.`,
          {
            field: 'palette',
            expected: `a Uint8Array of 3 * n bytes, n <= ${PALETTE_SIZE}`,
            actual: given === undefined ? undefined : given.length,
          },
        );
      }
      palette = new Uint8Array(PALETTE_SIZE * 3);
      palette.set(given);
    } else if (options.palette !== undefined) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `Only a P (palette) RawImage takes a palette; this one is ${mode}.`,
        {
          field: 'palette',
          expected: 'no palette',
          actual: mode,
        },
      );
    }
    this.data = data;
    this.width = width;
    this.height = height;
    this.channels = channels;
    this.mode = mode;
    this.palette = palette;
  }

  /** `[width, height]`, in PIL's order. */
  get size(): [width: number, height: number] {
    return [this.width, this.height];
  }

  /** A short description for logs and errors: `RawImage(RGB 640x480)`. */
  toString(): string {
    return `RawImage(${this.mode} ${this.width}x${this.height})`;
  }
}

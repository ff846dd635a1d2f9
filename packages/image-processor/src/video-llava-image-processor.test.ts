import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageProcessorConfig } from '@video-llava/config';
import { loadPretrainedConfigFrom } from '@video-llava/config/node';
import { assertClose, tinyFixture } from '@video-llava/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { centerCrop } from './center-crop.js';
import { convertToRgb } from './convert-to-rgb.js';
import { loadImage } from './node.js';
import { RawImage } from './raw-image.js';
import { resizePil } from './resize-pil.js';
import { getResizeSize } from './resize-size.js';
import { VideoLlavaImageProcessor } from './video-llava-image-processor.js';

// Pixel values of PNG inputs must match transformers' VideoLlavaImageProcessor (PIL path) within 1e-5.
// Measured on this port: 0 (bit-identical float32) for all eight PNGs.
const PIXEL_TOLERANCE = 1e-5;

let config: ImageProcessorConfig;
beforeAll(async () => {
  config = (await loadPretrainedConfigFrom(tinyFixture.model)).processor.imageProcessor;
});

const images = readdirSync(tinyFixture.images).sort();

describe('VideoLlavaImageProcessor against the reference (refs/pixel_values)', () => {
  it('covers the nine fixture images', () => {
    expect(images).toHaveLength(9);
  });

  it.each(images.filter((file) => file.endsWith('.png')))('%s: max abs difference <= 1e-5', async (file) => {
    const processor = new VideoLlavaImageProcessor(config);
    const { pixelValues } = processor.preprocess(await loadImage(join(tinyFixture.images, file)));
    const difference = assertClose(pixelValues, tinyFixture.npy('pixel_values', `${file}.npy`), PIXEL_TOLERANCE, file);
    // An exact port: the same float32 values, not merely close ones.
    expect(difference.maxAbsDifference).toBe(0);
  });

  it('photo_512x384.jpg: decoded pixels equal PIL (libjpeg-turbo) exactly, and so do the pixel values', async () => {
    const file = join(tinyFixture.images, 'photo_512x384.jpg');
    const image = await loadImage(file);
    const decoded = tinyFixture.npy('decoded_photo_512x384.jpg.npy');
    expect(decoded.dims).toEqual([image.height, image.width, 3]);
    // Measured: max difference 0 levels (sharp's libjpeg-turbo decodes as PIL's does). A different libjpeg build
    // may differ by a level; more than that would be a real decoding difference.
    const decodedDifference = assertClose(convertToRgb(image).data, decoded.data as Uint8Array, 1, 'decoded JPEG');
    expect(decodedDifference.maxAbsDifference).toBe(0);
    const { pixelValues } = new VideoLlavaImageProcessor(config).preprocess(image);
    // With identical decoded pixels the pixel values are identical too (measured: 0).
    assertClose(
      pixelValues,
      tinyFixture.npy('pixel_values', 'photo_512x384.jpg.npy'),
      PIXEL_TOLERANCE,
      'photo_512x384.jpg',
    );
  });

  it('batches several images in order to [N, 3, H, W]', async () => {
    const files = ['small_100x80.png', 'palette_200x150.png', 'gray_256x256.png'];
    const loaded = await Promise.all(files.map((file) => loadImage(join(tinyFixture.images, file))));
    const { pixelValues } = new VideoLlavaImageProcessor(config).preprocess(loaded);
    expect(pixelValues.dims).toEqual([3, 3, config.cropSize.height, config.cropSize.width]);
    files.forEach((file, index) =>
      assertClose(pixelValues.at(index), tinyFixture.npy('pixel_values', `${file}.npy`).at(0), PIXEL_TOLERANCE, file),
    );
  });
});

function noise(width: number, height: number): RawImage {
  return new RawImage(
    Uint8Array.from({ length: width * height * 3 }, (_, index) => (index * 2654435761) >>> 24),
    width,
    height,
    'RGB',
  );
}

describe('VideoLlavaImageProcessor follows every setting of the config', () => {
  it('resizes with the filter the config names (resample 2 = bilinear) and the size it gives', () => {
    const image = noise(61, 47);
    const settings: ImageProcessorConfig = {
      ...config,
      resample: 2,
      size: { height: 40, width: 50 },
      cropSize: { height: 30, width: 33 },
    };
    const processor = new VideoLlavaImageProcessor(settings);
    expect(processor.resampleFilter).toBe('bilinear');
    const prepared = processor.prepareImage(image);
    const expected = centerCrop(resizePil(image, 50, 40, 'bilinear'), 30, 33);
    expect(Buffer.from(prepared.data).equals(Buffer.from(expected.data))).toBe(true);
    expect(processor.preprocess(image).pixelValues.dims).toEqual([1, 3, 30, 33]);
  });

  it('skips resize and crop when they are off, keeping the input size', () => {
    const image = noise(13, 9);
    const processor = new VideoLlavaImageProcessor({ ...config, doResize: false, doCenterCrop: false });
    expect(processor.preprocess(image).pixelValues.dims).toEqual([1, 3, 9, 13]);
  });

  it('rescales in double then rounds to float32, and normalizes in float32, as NumPy does', () => {
    const image = noise(5, 4);
    const base = { ...config, doResize: false, doCenterCrop: false };
    const at = (channel: number, pixel: number) => image.data[pixel * 3 + channel]!;
    const rescaled = new VideoLlavaImageProcessor({ ...base, doNormalize: false }).preprocess(image).pixelValues.data;
    const normalizedOnly = new VideoLlavaImageProcessor({ ...base, doRescale: false }).preprocess(image).pixelValues
      .data;
    const neither = new VideoLlavaImageProcessor({ ...base, doRescale: false, doNormalize: false }).preprocess(image)
      .pixelValues.data;
    const both = new VideoLlavaImageProcessor(base).preprocess(image).pixelValues.data;
    const f32 = new Float32Array(1);
    const round = (value: number) => ((f32[0] = value), f32[0]);
    for (let channel = 0; channel < 3; channel++) {
      const mean = round(config.imageMean[channel]!);
      const std = round(config.imageStd[channel]!);
      for (let pixel = 0; pixel < 20; pixel++) {
        const value = at(channel, pixel);
        const index = channel * 20 + pixel;
        expect(rescaled[index]).toBe(round(value * config.rescaleFactor));
        expect(normalizedOnly[index]).toBe(round(round(value - mean) / std));
        expect(neither[index]).toBe(value);
        expect(both[index]).toBe(round(round(round(value * config.rescaleFactor) - mean) / std));
      }
    }
  });

  it('processes a 1x1 image: upscaled to a constant shortestEdge square, then cropped', () => {
    // transformers itself fails on a 1x1 image (it guesses channels-first from the shape (1, 1, 3)); here it works.
    const image = new RawImage(new Uint8Array([10, 20, 30]), 1, 1, 'RGB');
    const { pixelValues } = new VideoLlavaImageProcessor(config).preprocess(image);
    const { height, width } = config.cropSize;
    expect(pixelValues.dims).toEqual([1, 3, height, width]);
    const edge = 'shortestEdge' in config.size ? config.size.shortestEdge : Number.NaN;
    expect(getResizeSize(image, config.size)).toEqual({ height: edge, width: edge });
    const plane = height * width;
    const one = new VideoLlavaImageProcessor({ ...config, doResize: false, doCenterCrop: false }).preprocess(image)
      .pixelValues.data;
    for (let channel = 0; channel < 3; channel++) {
      const values = new Set(pixelValues.data.subarray(channel * plane, (channel + 1) * plane));
      expect([...values]).toEqual([one[channel]]);
    }
  });

  it('refuses non-RGB images when do_convert_rgb is off, like the reference', () => {
    const processor = new VideoLlavaImageProcessor({ ...config, doConvertRgb: false });
    const grey = new RawImage(new Uint8Array(4), 2, 2, 'L');
    expect(() => processor.preprocess([noise(2, 2), grey])).toThrowError(
      expect.objectContaining({ code: 'UNSUPPORTED', field: 'images[1]', actual: 'L' }),
    );
    expect(processor.preprocess(noise(300, 300)).pixelValues.dims[1]).toBe(3);
  });

  it('names the image that cannot be stacked with the others', () => {
    const processor = new VideoLlavaImageProcessor({ ...config, doResize: false, doCenterCrop: false });
    expect(() => processor.preprocess([noise(4, 4), noise(4, 4), noise(5, 4)])).toThrowError(
      expect.objectContaining({ code: 'SHAPE_MISMATCH', field: 'images[2]' }),
    );
    expect(() => processor.preprocess([])).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'images' }),
    );
    expect(() => processor.preprocess([{} as RawImage])).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'images[0]' }),
    );
  });

  it('refuses unusable settings at construction, naming the file and field they came from', () => {
    const refusal = (field: string) =>
      expect.objectContaining({
        code: 'INVALID_CONFIG',
        file: expect.stringMatching(/processor_config\.json$/),
        field: `image_processor.${field}`,
      });
    expect(() => new VideoLlavaImageProcessor({ ...config, resample: 9 })).toThrowError(refusal('resample'));
    expect(() => new VideoLlavaImageProcessor({ ...config, imageStd: [1, 0, 1] })).toThrowError(refusal('image_std'));
    expect(() => new VideoLlavaImageProcessor({ ...config, cropSize: { height: 0, width: 2 } })).toThrowError(
      refusal('crop_size'),
    );
    expect(() => new VideoLlavaImageProcessor({ ...config, size: {} as ImageProcessorConfig['size'] })).toThrowError(
      refusal('size'),
    );
    // settings built by hand name the field alone
    const { origin: _origin, ...byHand } = config;
    expect(() => new VideoLlavaImageProcessor({ ...byHand, resample: 9 })).toThrowError(
      expect.objectContaining({ code: 'INVALID_CONFIG', field: 'resample' }),
    );
  });
});

import { Tensor, VideoLlavaError, describeValue } from '@video-llava/core';
import type { ImageProcessorConfig } from '@video-llava/config';
import { centerCrop } from './center-crop.js';
import { convertToRgb } from './convert-to-rgb.js';
import { RawImage } from './raw-image.js';
import { rescaleAndNormalize } from './rescale-and-normalize.js';
import { resampleFilterFromPilCode, type ResampleFilter } from './resample-filter.js';
import { getResizeSize } from './resize-size.js';
import { resizePil, resizePilWindow } from './resize-pil.js';

/** What {@link VideoLlavaImageProcessor.preprocess} returns. */
export interface ImageProcessorOutput {
  /** `[N, 3, H, W]` float32: the images in order, channels first (transformers' `pixel_values_images`). */
  pixelValues: Tensor<'float32'>;
}

/** Throws `INVALID_CONFIG` naming the file and field the setting was read from, when the config says where. */
function invalidConfig(origin: ImageProcessorConfig['origin'], name: string, expected: string, actual: unknown): never {
  const field = origin?.fieldPrefix ? `${origin.fieldPrefix}.${name}` : name;
  const where = origin ? `${origin.file}: field "${field}"` : `Image processor config: field "${field}"`;
  throw new VideoLlavaError('INVALID_CONFIG', `${where} should be ${expected}, found ${describeValue(actual)}.`, {
    ...(origin ? { file: origin.file } : {}),
    field,
    expected,
    actual,
  });
}

/**
 * transformers' `VideoLlavaImageProcessor` (the PIL/NumPy one), step for step and bit for bit on 8-bit input:
 * convert to RGB (`do_convert_rgb`), resize (`do_resize`, `size`, `resample`, PIL's filters), center crop
 * (`do_center_crop`, `crop_size`, zero padding when smaller), rescale (`do_rescale`, `rescale_factor`, double then
 * float32) and normalize (`do_normalize`, `image_mean`, `image_std`, float32), then channels first.
 * Every number comes from the config; nothing is assumed about 224 or the CLIP constants.
 *
 * @example
 * ```ts
 * // In Node: loadPretrainedConfigFrom comes from @video-llava/config/node, loadImage from this package's ./node entry
 * // (./browser in browsers).
 * const config = await loadPretrainedConfigFrom('path/to/checkpoint');
 * const processor = new VideoLlavaImageProcessor(config.processor.imageProcessor);
 * const { pixelValues } = processor.preprocess(await loadImage('cat.png')); // float32[1,3,224,224]
 * ```
 */
export class VideoLlavaImageProcessor {
  /** The settings, as given. */
  readonly config: ImageProcessorConfig;
  /** The resampling filter named by `config.resample`. */
  readonly resampleFilter: ResampleFilter;

  /**
   * @param config the image processor settings (`processor.imageProcessor` of `loadPretrainedConfig`)
   * @throws VideoLlavaError `INVALID_CONFIG` naming the field when a setting cannot be used
   */
  constructor(config: ImageProcessorConfig) {
    if (config === null || typeof config !== 'object') invalidConfig(undefined, 'image_processor', 'an object', config);
    let resampleFilter: ResampleFilter;
    try {
      resampleFilter = resampleFilterFromPilCode(config.resample);
    } catch {
      invalidConfig(
        config.origin,
        'resample',
        'a PIL resampling code: 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box or 5 hamming',
        config.resample,
      );
    }
    const size = config.size as Partial<{ shortestEdge: number; height: number; width: number }> | undefined;
    const positive = (value: unknown): boolean =>
      typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
    if (!size || !(positive(size.shortestEdge) || (positive(size.height) && positive(size.width)))) {
      invalidConfig(config.origin, 'size', '{ shortestEdge } or { height, width } with positive integers', size);
    }
    if (!config.cropSize || !positive(config.cropSize.height) || !positive(config.cropSize.width)) {
      invalidConfig(config.origin, 'crop_size', '{ height, width } with positive integers', config.cropSize);
    }
    if (config.doRescale && !(typeof config.rescaleFactor === 'number' && Number.isFinite(config.rescaleFactor))) {
      invalidConfig(config.origin, 'rescale_factor', 'a finite number', config.rescaleFactor);
    }
    if (config.doNormalize) {
      for (const [field, values] of [
        ['image_mean', config.imageMean],
        ['image_std', config.imageStd],
      ] as const) {
        if (
          !Array.isArray(values) ||
          values.length !== 3 ||
          values.some((value) => typeof value !== 'number' || !Number.isFinite(value))
        ) {
          invalidConfig(config.origin, field, 'three finite numbers (R, G, B)', values);
        }
      }
      if (config.imageStd.some((value) => value === 0))
        invalidConfig(config.origin, 'image_std', 'non-zero numbers', config.imageStd);
    }
    this.config = config;
    this.resampleFilter = resampleFilter;
  }

  /**
   * One image through every step but the batching: RGB, resized, cropped, as uint8.
   *
   * @param image any {@link RawImage}
   * @param field the argument's name for error messages
   * @default field 'image'
   * @throws VideoLlavaError `UNSUPPORTED` for a non-RGB image when `do_convert_rgb` is off
   */
  prepareImage(image: RawImage, field = 'image'): RawImage {
    if (!(image instanceof RawImage)) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `${field} must be a RawImage (see loadImage), found ${describeValue(image)}.`,
        {
          field,
          expected: 'RawImage',
          actual: (image as object | null | undefined)?.constructor?.name ?? image,
        },
      );
    }
    const config = this.config;
    let current = image;
    if (config.doConvertRgb) {
      current = convertToRgb(current);
    } else if (current.mode !== 'RGB') {
      // The reference cannot process these either (it infers channels from the array shape and fails).
      throw new VideoLlavaError(
        'UNSUPPORTED',
        `${field} is a ${current.mode} image but do_convert_rgb is false: only RGB images can be processed without conversion.`,
        {
          field,
          expected: 'RGB',
          actual: current.mode,
        },
      );
    }
    if (config.doResize) {
      const { width, height } = getResizeSize(current, config.size);
      const crop = config.cropSize;
      if (config.doCenterCrop && crop.width <= width && crop.height <= height) {
        // Resize and crop in one go: only the kept window is computed, bit-identical to resizing then cropping.
        const window = {
          left: Math.floor((width - crop.width) / 2),
          top: Math.floor((height - crop.height) / 2),
          width: crop.width,
          height: crop.height,
        };
        return resizePilWindow(current, width, height, window, this.resampleFilter);
      }
      current = resizePil(current, width, height, this.resampleFilter);
    }
    if (config.doCenterCrop) current = centerCrop(current, config.cropSize.height, config.cropSize.width);
    return current;
  }

  /**
   * transformers' `preprocess(images)`: each image through {@link prepareImage}, then rescaled and normalized,
   * channels first, stacked.
   *
   * @param images one image or a list of them; all must come out the same size (always so with `do_center_crop`)
   * @returns `pixelValues`, float32 `[N, 3, H, W]`
   * @throws VideoLlavaError `INVALID_ARGUMENT` for an empty list or a non-image, `SHAPE_MISMATCH` naming the image
   *   whose processed size differs from the first one's
   */
  preprocess(images: RawImage | readonly RawImage[]): ImageProcessorOutput {
    const list = images instanceof RawImage ? [images] : images;
    if (!Array.isArray(list) || list.length === 0) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `preprocess needs a RawImage or a non-empty array of them, found ${describeValue(images)}.`,
        {
          field: 'images',
          expected: 'RawImage | RawImage[] (at least one)',
          actual: Array.isArray(list) ? 0 : images,
        },
      );
    }
    const prepared = list.map((image, index) =>
      this.prepareImage(image, images instanceof RawImage ? 'images' : `images[${index}]`),
    );
    const first = prepared[0]!;
    const channels = first.channels;
    const plane = first.width * first.height;
    const out = new Float32Array(prepared.length * channels * plane);
    const config = this.config;
    prepared.forEach((image, index) => {
      if (image.width !== first.width || image.height !== first.height) {
        throw new VideoLlavaError(
          'SHAPE_MISMATCH',
          `images[${index}] comes out ${image.width}x${image.height} but images[0] comes out ${first.width}x${first.height}: they cannot be stacked (turn on do_center_crop or give same-sized images).`,
          {
            field: `images[${index}]`,
            expected: `${first.width}x${first.height}`,
            actual: `${image.width}x${image.height}`,
          },
        );
      }
      rescaleAndNormalize(image, config, out, index * channels * plane);
    });
    return { pixelValues: new Tensor('float32', out, [prepared.length, channels, first.height, first.width]) };
  }
}

import { createHash } from 'node:crypto';
import { type Tensor, type VideoLlava, nodePlatform } from 'video-llava';

/**
 * Pixel values of the last few distinct media files, by the SHA-256 of their bytes. A follow-up about the same video
 * skips decoding it, and gets the very tensor of the earlier request, so the model's prefix cache recognises the
 * video at once and reuses its encoding and prefill.
 */
export class PixelCache {
  readonly #entries = new Map<string, Tensor<'float32'>>();
  readonly #capacity: number;
  readonly #model: VideoLlava;

  /** @param capacity how many files to keep (0 keeps none) */
  constructor(model: VideoLlava, capacity: number) {
    this.#model = model;
    this.#capacity = capacity;
  }

  /** Entries kept. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The pixel values of a video (`[1, frames, 3, H, W]`) or an image (`[1, 3, H, W]`) file, decoded and processed as
   * `VideoLlava.generate` would (the checkpoint's frame count, video and image processors).
   * @throws VideoLlavaError `DECODE_FAILED` / `INVALID_FILE` for bytes that are not a video or image, `ABORTED`
   */
  async pixelValues(kind: 'image' | 'video', bytes: Uint8Array, signal?: AbortSignal): Promise<Tensor<'float32'>> {
    const key = `${kind}:${createHash('sha256').update(bytes).digest('hex')}`;
    const cached = this.#entries.get(key);
    if (cached) {
      // Most recently used last.
      this.#entries.delete(key);
      this.#entries.set(key, cached);
      return cached;
    }
    const processor = this.#model.processor;
    const numFrames = this.#model.config.processor.videoProcessor.numFrames;
    const options = { numFrames, signal };
    const pixels =
      kind === 'video'
        ? processor.videoProcessor.preprocess(await nodePlatform.loadVideo(bytes, options)).pixelValuesVideos
        : processor.imageProcessor.preprocess(await nodePlatform.loadImage(bytes, options)).pixelValues;
    if (this.#capacity > 0) {
      this.#entries.set(key, pixels);
      while (this.#entries.size > this.#capacity) this.#entries.delete(this.#entries.keys().next().value!);
    }
    return pixels;
  }
}

import type { Tensor } from '@video-llava/core';
import { type VideoLlavaCache, releaseCacheTensors } from './kv-cache.js';
import type { PlaceholderIds } from './scatter-media-features.js';

/**
 * What the model keeps after a generation so that a follow-up can skip work: the key/value cache of one sequence,
 * the token ids it covers (the prompt and every new token but the last), and the pixel values of the media those
 * tokens stand for.
 */
export interface PrefixCacheEntry {
  /** The ids the cache holds, in order. */
  tokens: Int32Array;
  /** One row, `tokens.length` positions. */
  cache: VideoLlavaCache;
  /** The request's images `[images, 3, H, W]`, if any. */
  pixelValuesImages: Tensor<'float32'> | undefined;
  /** The request's videos `[videos, frames, 3, H, W]`, if any. */
  pixelValuesVideos: Tensor<'float32'> | undefined;
}

/** How much of a prompt a cached prefix covers. */
export interface PrefixMatch {
  /** Positions of the prompt whose keys and values can be taken from the cache. */
  length: number;
  /** Images whose placeholders all lie inside the prefix (their features are not needed again). */
  images: number;
  /** Videos whose placeholders all lie inside the prefix. */
  videos: number;
}

/** Token counts of one image and of one video of the current request. */
export interface MediaTokenCounts extends PlaceholderIds {
  tokensPerImage: number;
  tokensPerVideo: number;
}

function sameItem(a: Tensor<'float32'> | undefined, b: Tensor<'float32'> | undefined, index: number): boolean {
  if (a === undefined || b === undefined || index >= a.dims[0]! || index >= b.dims[0]!) return false;
  if (a.dims.length !== b.dims.length || a.dims.some((dim, axis) => axis > 0 && dim !== b.dims[axis])) return false;
  const size = a.size / a.dims[0]!;
  if (a.data === b.data) return true;
  const left = a.data.subarray(index * size, (index + 1) * size);
  const right = b.data.subarray(index * size, (index + 1) * size);
  for (let position = 0; position < size; position++) if (left[position] !== right[position]) return false;
  return true;
}

/** Index of the `ordinal`-th (from 0) occurrence of `id` in `ids`. */
function positionOf(ids: ArrayLike<bigint>, id: bigint, ordinal: number): number {
  let seen = 0;
  for (let position = 0; position < ids.length; position++) {
    if (ids[position] !== id) continue;
    if (seen === ordinal) return position;
    seen++;
  }
  return ids.length;
}

/**
 * The longest prefix of `ids` (one prompt row) whose cached keys and values are valid: the ids agree with the
 * cached ones, no image or video is cut in two, and every image and video inside it has the same pixel values as
 * the cached request's (a different video behind the same `<video>` ids must be encoded again). At least one
 * prompt token is always left to run, since its logits start the generation.
 */
export function matchPrefix(
  entry: PrefixCacheEntry,
  ids: ArrayLike<bigint>,
  media: { pixelValuesImages?: Tensor<'float32'> | undefined; pixelValuesVideos?: Tensor<'float32'> | undefined },
  counts: MediaTokenCounts,
): PrefixMatch {
  const limit = Math.min(entry.tokens.length, ids.length - 1);
  let length = 0;
  while (length < limit && BigInt(entry.tokens[length]!) === ids[length]) length++;
  const imageId = BigInt(counts.imageTokenId);
  const videoId = BigInt(counts.videoTokenId);
  for (;;) {
    let imageTokens = 0;
    let videoTokens = 0;
    for (let position = 0; position < length; position++) {
      if (ids[position] === imageId) imageTokens++;
      else if (ids[position] === videoId) videoTokens++;
    }
    const images = counts.tokensPerImage > 0 ? Math.floor(imageTokens / counts.tokensPerImage) : 0;
    const videos = counts.tokensPerVideo > 0 ? Math.floor(videoTokens / counts.tokensPerVideo) : 0;
    // A media item cut by the prefix: start over from its first token.
    if (imageTokens > images * counts.tokensPerImage) {
      length = positionOf(ids, imageId, images * counts.tokensPerImage);
      continue;
    }
    if (videoTokens > videos * counts.tokensPerVideo) {
      length = positionOf(ids, videoId, videos * counts.tokensPerVideo);
      continue;
    }
    let changed = false;
    for (let image = 0; image < images && !changed; image++) {
      if (!sameItem(entry.pixelValuesImages, media.pixelValuesImages, image)) {
        length = positionOf(ids, imageId, image * counts.tokensPerImage);
        changed = true;
      }
    }
    for (let video = 0; video < videos && !changed; video++) {
      if (!sameItem(entry.pixelValuesVideos, media.pixelValuesVideos, video)) {
        length = positionOf(ids, videoId, video * counts.tokensPerVideo);
        changed = true;
      }
    }
    if (!changed) return { length, images, videos };
  }
}

/**
 * Holds the one {@link PrefixCacheEntry} a model keeps between generations. A new entry replaces (and releases) the
 * old one; an entry being read is released only once its readers are done.
 */
export class PrefixCacheStore {
  #entry: PrefixCacheEntry | undefined;
  readonly #readers = new Map<PrefixCacheEntry, number>();
  readonly #retired = new Set<PrefixCacheEntry>();

  /** The entry, if any. */
  get entry(): PrefixCacheEntry | undefined {
    return this.#entry;
  }

  /** Replaces the entry (`undefined` clears it); the previous one is released once nobody reads it. */
  set(entry: PrefixCacheEntry | undefined): void {
    const previous = this.#entry;
    this.#entry = entry;
    if (previous && previous !== entry) this.#retire(previous);
  }

  /** Runs `read` with the entry held, so that a concurrent {@link set} does not free it meanwhile. */
  async read<T>(entry: PrefixCacheEntry, read: () => Promise<T>): Promise<T> {
    this.#readers.set(entry, (this.#readers.get(entry) ?? 0) + 1);
    try {
      return await read();
    } finally {
      const left = this.#readers.get(entry)! - 1;
      if (left > 0) this.#readers.set(entry, left);
      else {
        this.#readers.delete(entry);
        if (this.#retired.delete(entry)) releaseCacheTensors(entry.cache);
      }
    }
  }

  #retire(entry: PrefixCacheEntry): void {
    if (this.#readers.has(entry)) this.#retired.add(entry);
    else releaseCacheTensors(entry.cache);
  }
}

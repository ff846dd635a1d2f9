/**
 * Work a {@link VideoLlavaForConditionalGeneration} has done since it was loaded (or since `resetStatistics`):
 * what a cached prefix saves shows up here as encoder runs and prefill tokens that did not happen.
 */
export interface ModelStatistics {
  /** Runs of the image encoder (all images of a request go in one run). */
  imageEncoderRuns: number;
  /** Images through the image encoder. */
  imagesEncoded: number;
  /** Runs of the video encoder. */
  videoEncoderRuns: number;
  /** Videos through the video encoder. */
  videosEncoded: number;
  /** Prompt positions run through the decoder by prefills (rows times new positions). */
  prefillTokens: number;
  /** Prompt positions whose keys and values came from the cached prefix instead. */
  reusedPrefixTokens: number;
  /** Runs of the decoder (prefills and steps). */
  decoderRuns: number;
}

/** All counters at zero. */
export function emptyStatistics(): ModelStatistics {
  return {
    imageEncoderRuns: 0,
    imagesEncoded: 0,
    videoEncoderRuns: 0,
    videosEncoded: 0,
    prefillTokens: 0,
    reusedPrefixTokens: 0,
    decoderRuns: 0,
  };
}

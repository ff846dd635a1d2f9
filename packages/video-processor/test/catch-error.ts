import { VideoLlavaError } from '@video-llava/core';

/** The VideoLlavaError that `run` throws; anything else thrown is rethrown, and not throwing fails. */
export function catchError(run: () => unknown): VideoLlavaError {
  try {
    run();
  } catch (error) {
    if (VideoLlavaError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a VideoLlavaError');
}

import { VideoLlavaError } from '@video-llava/core';

/** Runs `run` and returns the VideoLlavaError it throws; fails the test when it throws anything else or nothing. */
export async function catchError(run: () => unknown): Promise<VideoLlavaError> {
  try {
    await run();
  } catch (error) {
    if (VideoLlavaError.isInstance(error)) return error;
    throw new Error(`expected a VideoLlavaError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a VideoLlavaError, but nothing was thrown');
}

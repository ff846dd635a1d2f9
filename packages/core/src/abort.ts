import { VideoLlavaError } from './errors.js';

/**
 * Throws an `ABORTED` {@link VideoLlavaError} when `signal` has been aborted; the signal's reason is the cause.
 *
 * @param signal the caller's signal, if any
 * @param what what was being done, for the message (e.g. `"generation"`)
 */
export function throwIfAborted(signal: AbortSignal | undefined, what = 'operation'): void {
  if (signal?.aborted) {
    throw new VideoLlavaError('ABORTED', `The ${what} was aborted.`, { cause: signal.reason });
  }
}

import { VideoLlavaError } from '@video-llava/core';

/** Deltas as they come, iterable once, and the final result. */
export interface SinglePassStream<TDelta, TResult> extends AsyncIterable<TDelta> {
  /** The final result (it starts the generator if nobody iterates). */
  readonly result: Promise<TResult>;
}

/**
 * Wraps a generator of deltas and the result it settles as a stream (what `streamGeneration` returns, and
 * what a wrapper of it can return with its own result): iterating twice throws `INVALID_ARGUMENT`; reading `result`
 * before iterating runs the generator to its end with nobody reading the deltas. The iteration sees the errors, so
 * `result` is marked handled (no unhandled rejection when only the deltas are read).
 *
 * @example
 * ```ts
 * let resolveAnswer!: (answer: Answer) => void;
 * const answer = new Promise<Answer>((resolve) => (resolveAnswer = resolve));
 * async function* deltas(): AsyncGenerator<GenerationDelta, void, void> {
 *   const inner = streamGeneration(options);
 *   yield* inner;
 *   resolveAnswer(toAnswer(await inner.result));
 * }
 * return singlePassStream(deltas(), answer);
 * ```
 */
export function singlePassStream<TDelta, TResult>(
  deltas: AsyncGenerator<TDelta, void, void>,
  result: Promise<TResult>,
): SinglePassStream<TDelta, TResult> {
  result.catch(() => undefined);
  let started = false;
  return {
    [Symbol.asyncIterator]() {
      if (started) {
        throw new VideoLlavaError('INVALID_ARGUMENT', 'A generation stream can be iterated only once.', {
          field: 'stream',
          expected: 'one iteration',
          actual: 'a second one',
        });
      }
      started = true;
      return deltas;
    },
    get result() {
      if (!started) {
        started = true;
        void (async () => {
          try {
            for await (const _delta of deltas) {
              // draining: nobody reads the deltas
            }
          } catch {
            // the result promise carries the error
          }
        })();
      }
      return result;
    },
  };
}

import { describe, expect, it } from 'vitest';
import { singlePassStream } from './single-pass-stream.js';

/** A generator of `count` numbers that resolves (or rejects with `failure`) the result when it ends, and records how far it ran. */
function counting(count: number, failure?: Error) {
  const seen: number[] = [];
  let resolveResult!: (value: string) => void;
  let rejectResult!: (error: unknown) => void;
  const result = new Promise<string>((resolve, reject) => {
    resolveResult = resolve;
    rejectResult = reject;
  });
  async function* deltas(): AsyncGenerator<number, void, void> {
    try {
      for (let index = 0; index < count; index += 1) {
        seen.push(index);
        yield index;
      }
      if (failure) throw failure;
      resolveResult(`done after ${count}`);
    } catch (error) {
      rejectResult(error);
      throw error;
    }
  }
  return { stream: singlePassStream(deltas(), result), seen };
}

describe('singlePassStream', () => {
  it('gives the deltas, then the result', async () => {
    const { stream } = counting(3);
    const deltas: number[] = [];
    for await (const delta of stream) deltas.push(delta);
    expect(deltas).toEqual([0, 1, 2]);
    await expect(stream.result).resolves.toBe('done after 3');
  });

  it('runs the generator to its end when only the result is read', async () => {
    const { stream, seen } = counting(4);
    await expect(stream.result).resolves.toBe('done after 4');
    expect(seen).toEqual([0, 1, 2, 3]);
  });

  it('can be iterated only once, and not after the result started it', async () => {
    const { stream } = counting(2);
    for await (const _delta of stream) {
      // read them all
    }
    expect(() => stream[Symbol.asyncIterator]()).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'stream' }),
    );
    const drained = counting(2).stream;
    await drained.result;
    expect(() => drained[Symbol.asyncIterator]()).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('gives an error to the reader of the deltas and to the result, without an unhandled rejection', async () => {
    const failure = new Error('model failed');
    const { stream } = counting(1, failure);
    await expect(
      (async () => {
        for await (const _delta of stream) {
          // read them all
        }
      })(),
    ).rejects.toBe(failure);
    await expect(stream.result).rejects.toBe(failure);
    // Read only through the result: the drain swallows the error, the result carries it.
    await expect(counting(2, failure).stream.result).rejects.toBe(failure);
  });

  it('does not read the deltas twice when the result is read during the iteration', async () => {
    const { stream, seen } = counting(3);
    const deltas: number[] = [];
    for await (const delta of stream) {
      deltas.push(delta);
      void stream.result;
    }
    expect(deltas).toEqual([0, 1, 2]);
    expect(seen).toEqual([0, 1, 2]);
  });
});

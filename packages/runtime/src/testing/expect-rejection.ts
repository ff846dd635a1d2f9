import { VideoLlavaError } from '@video-llava/core';
import { expect } from 'vitest';

/**
 * Awaits a promise that must reject with a `VideoLlavaError` (of any copy of core) and returns the error, so a
 * test can check its `code`, `field` and the rest; fails the test when the promise resolves or rejects otherwise.
 *
 * @example
 * expect((await expectRejection(backend.createSession('missing.onnx'))).code).toBe('FILE_NOT_FOUND');
 */
export async function expectRejection(promise: Promise<unknown>): Promise<VideoLlavaError> {
  const error = await promise.then(
    () => expect.fail('expected the promise to reject with a VideoLlavaError'),
    (caught: unknown) => caught,
  );
  if (!VideoLlavaError.isInstance(error)) return expect.fail(`expected a VideoLlavaError, got ${String(error)}`);
  return error;
}

import { describe, expect, it } from 'vitest';
import { HttpError } from './openai-error.js';
import { RequestQueue } from './request-queue.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe('RequestQueue', () => {
  it('runs one task at a time in arrival order, refuses past maxWaiting with 429 and Retry-After', async () => {
    const queue = new RequestQueue(1);
    const order: string[] = [];
    const first = deferred();
    const a = queue.run(async () => {
      order.push('a start');
      await first.promise;
      order.push('a end');
    }, new AbortController().signal);
    const b = queue.run(async () => void order.push('b'), new AbortController().signal);
    expect(queue.waiting).toBe(1);
    expect(queue.running).toBe(true);
    const refused = await queue
      .run(async () => undefined, new AbortController().signal)
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(HttpError);
    expect((refused as HttpError).status).toBe(429);
    expect(Number((refused as HttpError).headers['retry-after'])).toBeGreaterThanOrEqual(1);
    first.resolve();
    await Promise.all([a, b]);
    expect(order).toEqual(['a start', 'a end', 'b']);
    expect(queue.running).toBe(false);
  });

  it('a waiting task whose signal aborts leaves at once; a failing task frees the slot', async () => {
    const queue = new RequestQueue(2);
    const gate = deferred();
    const a = queue.run(() => gate.promise, new AbortController().signal);
    const controller = new AbortController();
    const b = queue.run(async () => 'b ran', controller.signal);
    controller.abort(new Error('client left'));
    await expect(b).rejects.toThrow('client left');
    expect(queue.waiting).toBe(0);
    const c = queue.run(async () => {
      throw new Error('boom');
    }, new AbortController().signal);
    const d = queue.run(async () => 'd ran', new AbortController().signal);
    gate.resolve();
    await a;
    await expect(c).rejects.toThrow('boom');
    await expect(d).resolves.toBe('d ran');
  });

  it('close fails waiting tasks and refuses new ones, and lets the running one finish', async () => {
    const queue = new RequestQueue(4);
    const gate = deferred();
    const a = queue.run(async () => {
      await gate.promise;
      return 'a done';
    }, new AbortController().signal);
    const b = queue.run(async () => 'b', new AbortController().signal);
    const closing = new HttpError(503, 'server_error', 'closing', { code: 'server_shutting_down' });
    queue.close(closing);
    await expect(b).rejects.toBe(closing);
    await expect(queue.run(async () => 'c', new AbortController().signal)).rejects.toBe(closing);
    gate.resolve();
    await expect(a).resolves.toBe('a done');
  });
});

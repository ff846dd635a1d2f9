import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { collectResults } from './collect-results.js';
import { startWorker } from './start-worker.js';
import { submitJobs } from './submit-jobs.js';

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('connecting to Redis', () => {
  it('fails with CONNECTION_FAILED within connectTimeoutMs when nothing answers, the password hidden', async () => {
    const redis = `redis://user:secret@127.0.0.1:${await closedPort()}`;
    const options = { redis, connectTimeoutMs: 500 };
    const submit = submitJobs([{ id: 'a', question: 'Q' }], options);
    await expect(submit).rejects.toMatchObject({ code: 'CONNECTION_FAILED', field: 'redis' });
    await expect(submit).rejects.toThrow(/redis:\/\/user:\*\*\*@127\.0\.0\.1:\d+ within 500 ms \(connect ECONNREFUSED/);
    const collect = (async () => {
      for await (const result of collectResults(options)) throw new Error(`unexpected ${JSON.stringify(result)}`);
    })();
    await expect(collect).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
    // Before loading the model: the source below does not exist, and the Redis error is what is reported.
    await expect(startWorker({ ...options, model: '/no/such/model' })).rejects.toMatchObject({
      code: 'CONNECTION_FAILED',
    });
  });

  it('refuses a URL that is not redis:// and a queue name with a colon', async () => {
    await expect(submitJobs([], { redis: 'http://127.0.0.1:6379' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'redis',
    });
    await expect(submitJobs([], { redis: 'not a url' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'redis',
    });
    await expect(submitJobs([], { redis: 'redis://127.0.0.1:6379', queue: 'a:b' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'queue',
    });
  });
});

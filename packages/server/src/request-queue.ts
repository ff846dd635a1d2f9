import { HttpError } from './openai-error.js';

interface Waiter {
  start: () => void;
  fail: (error: unknown) => void;
}

/**
 * Runs tasks one at a time (one model, one generation at a time) with at most `maxWaiting` tasks waiting behind the
 * running one. A task whose signal aborts while it waits leaves the queue at once and frees its place.
 */
export class RequestQueue {
  readonly #maxWaiting: number;
  readonly #waiting: Waiter[] = [];
  #running = false;
  #closed: HttpError | undefined;
  /** Moving average of a task's duration (ms), for Retry-After. */
  #averageMs = 1000;
  /** Called whenever the number of waiting tasks changes. */
  onChange: ((waiting: number, running: boolean) => void) | undefined;

  constructor(maxWaiting: number) {
    this.#maxWaiting = maxWaiting;
  }

  /** Tasks waiting (not counting the running one). */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Whether a task is running. */
  get running(): boolean {
    return this.#running;
  }

  /** Seconds after which a refused client might find a place: the waiting work at the average task duration. */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(((this.#waiting.length + 1) * this.#averageMs) / 1000));
  }

  /**
   * Checks that a task can be queued now, before the caller does any work for it.
   * @throws HttpError 429 (queue full, with Retry-After) or the closing error
   */
  checkCapacity(): void {
    if (this.#closed) throw this.#closed;
    if (this.#running && this.#waiting.length >= this.#maxWaiting) {
      throw new HttpError(
        429,
        'rate_limit_error',
        `The server is busy: ${this.#waiting.length} request(s) are waiting behind the one running (--max-queue ${this.#maxWaiting}). Retry later.`,
        {
          code: 'queue_full',
          headers: { 'retry-after': String(this.retryAfterSeconds()) },
        },
      );
    }
  }

  /**
   * Runs `task` when its turn comes.
   * @throws HttpError 429 when the queue is full; the signal's abort reason when it aborts while waiting
   */
  async run<T>(task: () => Promise<T>, signal: AbortSignal): Promise<T> {
    this.checkCapacity();
    signal.throwIfAborted();
    if (this.#running) {
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          start: () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          },
          fail: (error) => {
            signal.removeEventListener('abort', onAbort);
            reject(error);
          },
        };
        const onAbort = (): void => {
          const index = this.#waiting.indexOf(waiter);
          if (index >= 0) this.#waiting.splice(index, 1);
          this.onChange?.(this.#waiting.length, this.#running);
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        this.#waiting.push(waiter);
        this.onChange?.(this.#waiting.length, this.#running);
      });
    } else {
      this.#running = true;
      this.onChange?.(this.#waiting.length, this.#running);
    }
    const started = performance.now();
    try {
      return await task();
    } finally {
      this.#averageMs = 0.8 * this.#averageMs + 0.2 * (performance.now() - started);
      const next = this.#waiting.shift();
      if (next) next.start();
      else this.#running = false;
      this.onChange?.(this.#waiting.length, this.#running);
    }
  }

  /** Refuses new tasks with `error` from now on and fails every waiting one with it. The running one goes on. */
  close(error: HttpError): void {
    this.#closed = error;
    for (const waiter of this.#waiting.splice(0)) waiter.fail(error);
    this.onChange?.(0, this.#running);
  }
}

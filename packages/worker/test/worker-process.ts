// A worker process for the tests: `node --import tsx --conditions=@video-llava/source test/worker-process.ts`, with
// its settings as JSON in WORKER_CONFIG. Prints one JSON line per worker event, and {"type":"ready"} once it takes jobs.
// STEP_DELAY_MS slows every generation step (through the real onStep hook) so that a test can act while a job runs.
import { setTimeout as sleep } from 'node:timers/promises';
import { VideoLlava, type VideoLlavaRequest } from 'video-llava';
import { startWorker } from '../src/index.js';

interface WorkerProcessConfig {
  model: string;
  redis: string;
  queue: string;
  name: string;
  stepDelayMs?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  maxStalledCount?: number;
}

const config = JSON.parse(process.env.WORKER_CONFIG ?? '{}') as WorkerProcessConfig;
const print = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);

const model = await VideoLlava.load(config.model, { sessionOptions: { threads: 1 } });
if (config.stepDelayMs) {
  const generate = model.generate.bind(model);
  model.generate = (request: VideoLlavaRequest) => generate({ ...request, onStep: () => sleep(config.stepDelayMs) });
}
const worker = await startWorker({
  model,
  redis: config.redis,
  queue: config.queue,
  name: config.name,
  ...(config.lockDurationMs ? { lockDurationMs: config.lockDurationMs } : {}),
  ...(config.stalledIntervalMs ? { stalledIntervalMs: config.stalledIntervalMs } : {}),
  ...(config.maxStalledCount !== undefined ? { maxStalledCount: config.maxStalledCount } : {}),
  progressIntervalMs: 0,
  onEvent: (event) => print(event.type === 'error' ? { type: 'error', message: event.error.message } : event),
});
print({ type: 'ready' });
await worker.closeOnSignals();
await model.release();
print({ type: 'closed', counts: worker.counts });

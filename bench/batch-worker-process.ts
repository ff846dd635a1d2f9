// One batch worker in its own process, for worker.bench.ts: `node --conditions=@video-llava/source --import tsx
// batch-worker-process.ts <model> <redis> <queue> <threads>`. Prints "ready" once it takes jobs; SIGTERM stops it.
import { startWorker } from '@video-llava/worker';

const [model, redis, queue, threads] = process.argv.slice(2) as [string, string, string, string];
const worker = await startWorker({
  model,
  redis,
  queue,
  loadOptions: { sessionOptions: { threads: Number(threads) } },
});
process.stdout.write('ready\n');
await worker.closeOnSignals();

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The server's Prometheus metrics, in a registry of its own (two servers in one process do not mix). */
export interface ServerMetrics {
  registry: Registry;
  queueLength: Gauge;
  running: Gauge;
  requests: Counter<'method' | 'route' | 'status'>;
  promptTokens: Counter;
  generatedTokens: Counter;
  timeToFirstToken: Histogram;
  timePerToken: Histogram;
  requestDuration: Histogram<'route'>;
}

/** Makes the registry with the process metrics (`process_resident_memory_bytes`, ...) and the server's own. */
export function createServerMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    queueLength: new Gauge({
      name: 'video_llava_queue_length',
      help: 'Requests waiting for the model (not counting the running one)',
      registers,
    }),
    running: new Gauge({
      name: 'video_llava_requests_running',
      help: 'Requests the model is answering now (0 or 1)',
      registers,
    }),
    requests: new Counter({
      name: 'video_llava_http_requests_total',
      help: 'HTTP requests answered, by method, route and status (499: the client went away)',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    promptTokens: new Counter({
      name: 'video_llava_prompt_tokens_total',
      help: 'Prompt tokens processed (after the <image>/<video> expansion)',
      registers,
    }),
    generatedTokens: new Counter({
      name: 'video_llava_generated_tokens_total',
      help: 'Tokens generated, every choice counted',
      registers,
    }),
    timeToFirstToken: new Histogram({
      name: 'video_llava_time_to_first_token_seconds',
      help: 'From the request arriving to its first generated token (queueing, media decoding, encoding and prefill included)',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    }),
    timePerToken: new Histogram({
      name: 'video_llava_time_per_output_token_seconds',
      help: 'Time between consecutive generated tokens of the first choice',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    requestDuration: new Histogram({
      name: 'video_llava_request_duration_seconds',
      help: 'Request duration by route',
      labelNames: ['route'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
  };
}

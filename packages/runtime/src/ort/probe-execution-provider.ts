import type { ExecutionProvider } from '../backend.js';
import { probeModelBytes } from '../probe-model.js';
import type { OnnxruntimeModule } from './onnxruntime-api.js';

/**
 * Why onnxruntime cannot use an execution provider here (its error message when it loads a tiny model with that
 * provider alone), or `undefined` when it can. The answer is kept in `cache`, by provider and options, so each
 * provider is tried once.
 */
export function probeExecutionProvider(
  ort: OnnxruntimeModule,
  provider: ExecutionProvider,
  cache: Map<string, Promise<string | undefined>>,
): Promise<string | undefined> {
  const key = JSON.stringify(provider);
  let pending = cache.get(key);
  if (pending === undefined) {
    pending = ort.InferenceSession.create(probeModelBytes(), {
      executionProviders: [provider],
      logSeverityLevel: 3,
    }).then(
      async (session) => {
        await session.release();
        return undefined;
      },
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    cache.set(key, pending);
  }
  return pending;
}

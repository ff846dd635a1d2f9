import { afterEach } from 'vitest';
import type { InferenceSession } from '../inference-session.js';

/**
 * Registers a vitest `afterEach` (in the file or `describe` block it is called in) that releases every session
 * kept with the function it returns, so that a failing test leaves no session behind.
 *
 * @returns `keep(created)`: awaits a session being created, keeps it for release and returns it
 *
 * @example
 * const keep = releaseSessionsAfterEach();
 * const session = await keep(backend.createSession('model.onnx'));
 */
export function releaseSessionsAfterEach(): (created: Promise<InferenceSession>) => Promise<InferenceSession> {
  const open: InferenceSession[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((session) => session.release()));
  });
  return async (created) => {
    const session = await created;
    open.push(session);
    return session;
  };
}

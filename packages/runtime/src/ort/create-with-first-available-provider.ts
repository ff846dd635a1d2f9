import { VideoLlavaError } from '@video-llava/core';
import type { ExecutionProvider } from '../backend.js';
import { executionProviderName } from '../check-session-options.js';

/** How {@link createWithFirstAvailableProvider} tries each execution provider. */
export interface ProviderAttempt<Session> {
  /** Why the provider cannot be used here, or `undefined` when it can (then {@link create} is called). */
  unavailableReason(provider: ExecutionProvider, name: string): Promise<string | undefined>;
  /** Loads the model with the provider; what it throws is thrown as it is (no other provider is tried). */
  create(provider: ExecutionProvider, name: string): Promise<Session>;
  /** The providers the backend knows, for the error's `expected`. */
  knownProviders: readonly string[];
  /** Where the providers were looked for, as the message says it: `'here'`, `'on this machine'`. */
  where: string;
}

/**
 * Loads a model with the first execution provider, in order, that is available here.
 * @throws VideoLlavaError `UNSUPPORTED` when none is, listing each provider with the reason it was skipped
 */
export async function createWithFirstAvailableProvider<Session>(
  providers: readonly ExecutionProvider[],
  attempt: ProviderAttempt<Session>,
): Promise<{ session: Session; provider: ExecutionProvider }> {
  const skipped: string[] = [];
  for (const provider of providers) {
    const name = executionProviderName(provider);
    const reason = await attempt.unavailableReason(provider, name);
    if (reason !== undefined) {
      skipped.push(`${name}: ${reason}`);
      continue;
    }
    return { session: await attempt.create(provider, name), provider };
  }
  throw new VideoLlavaError(
    'UNSUPPORTED',
    `None of the execution providers asked for is available ${attempt.where}: ${skipped.join('; ')}.`,
    {
      field: 'options.executionProviders',
      expected: attempt.knownProviders,
      actual: providers.map(executionProviderName),
    },
  );
}

/**
 * The name of the first execution provider, in order, that is available here, without loading a model
 * (`Backend.executionProviderFor`).
 * @throws VideoLlavaError `UNSUPPORTED` when none is, as {@link createWithFirstAvailableProvider}
 */
export async function firstAvailableProvider(
  providers: readonly ExecutionProvider[],
  attempt: Omit<ProviderAttempt<unknown>, 'create'>,
): Promise<string> {
  const { session } = await createWithFirstAvailableProvider(providers, {
    ...attempt,
    create: async (_, name) => name,
  });
  return session;
}

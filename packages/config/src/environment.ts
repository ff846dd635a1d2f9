/** Environment variables as a plain record. */
export type Environment = Record<string, string | undefined>;

/**
 * The process environment when there is one (Node, Deno, Bun), else an empty record (browsers).
 * Read through `globalThis` so that the isomorphic entry needs no Node types.
 */
export function processEnvironment(): Environment {
  const processLike = (globalThis as { process?: { env?: Environment } }).process;
  return processLike?.env ?? {};
}

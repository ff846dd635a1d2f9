import type { CliIo } from './command.js';

/** An in-memory {@link CliIo} for tests: what the command printed is in `out` and `err`. */
export function createTestIo(cwd = process.cwd()): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (chunk: string) => (out += chunk) },
    stderr: { write: (chunk: string) => (err += chunk) },
    cwd,
    env: {},
    out: () => out,
    err: () => err,
  };
}

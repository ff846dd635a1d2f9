import { runCli } from './cli.js';
import { createTestIo } from './test-io.js';

/** What one run of the CLI did: its exit code and everything it printed. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/**
 * Runs `video-llava <argv>` in memory, for tests.
 * @param options.cwd the working directory relative paths resolve against; default `process.cwd()`
 * @param options.env the environment (`HF_ENDPOINT`, `HF_HUB_CACHE`, ...); default none
 */
export async function runCliForTest(
  argv: string[],
  options: { cwd?: string; env?: Record<string, string | undefined> } = {},
): Promise<CliRun> {
  const io = createTestIo(options.cwd);
  if (options.env) io.env = options.env;
  const code = await runCli(argv, io);
  return { code, out: io.out(), err: io.err() };
}

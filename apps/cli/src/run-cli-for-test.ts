import { runCli } from './cli.js';
import type { GenerateResult } from './commands/generate.js';
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

/**
 * The greedy answer of `video-llava generate <model> --video <video> --question <question> --json`, for tests that
 * compare another command's answer with it.
 * @throws Error with what the CLI printed when it fails
 */
export async function generateForTest(
  model: string,
  video: string,
  options: { question: string; maxNewTokens: number; cwd?: string },
): Promise<GenerateResult> {
  const argv = ['generate', model, '--question', options.question, '--video', video];
  const run = await runCliForTest(
    [...argv, '--max-new-tokens', String(options.maxNewTokens), '--greedy', '--json', '--quiet'],
    options.cwd === undefined ? {} : { cwd: options.cwd },
  );
  if (run.code !== 0) throw new Error(`video-llava generate exited with ${run.code}: ${run.err}`);
  return JSON.parse(run.out.trimEnd().split('\n').at(-1)!) as GenerateResult;
}

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BENCH_DIR } from './paths.js';

/**
 * Runs `bench/real/<script>` in a child Node process (from source, like `pnpm bench`) with `args` as JSON, within
 * `timeoutSeconds`, and returns the JSON of the last line it printed after `RESULT ` (a child may print partial
 * results as it goes: past the budget, the last one is returned with `timedOut: true`). Its stderr goes to ours.
 */
export function runChild<T>(
  script: string,
  args: unknown,
  timeoutSeconds: number,
  env: NodeJS.ProcessEnv = {},
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@video-llava/source', '--import', 'tsx', join(BENCH_DIR, 'real', script), JSON.stringify(args)],
      {
        cwd: BENCH_DIR,
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, ...env },
      },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutSeconds * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout
        .split('\n')
        .filter((text) => text.startsWith('RESULT '))
        .at(-1);
      if (timedOut && line) resolve({ ...(JSON.parse(line.slice('RESULT '.length)) as T), timedOut: true });
      else if (timedOut) reject(new Error(`${script} ran past its ${timeoutSeconds} s budget and was stopped`));
      else if (code !== 0 || !line)
        reject(
          new Error(
            `${script} failed (exit ${code ?? signal})${line ? '' : ': no RESULT line'}\n${stdout.slice(-2000)}`,
          ),
        );
      else resolve(JSON.parse(line.slice('RESULT '.length)) as T);
    });
  });
}

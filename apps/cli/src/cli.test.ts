import { describe, expect, it } from 'vitest';
import { runCliForTest } from './run-cli-for-test.js';

describe('video-llava bin', () => {
  it('lists its commands and exits 2 without one', async () => {
    const run = await runCliForTest([]);
    expect(run.code).toBe(2);
    expect(run.err).toContain('info');
  });

  it('refuses an unknown command', async () => {
    const run = await runCliForTest(['frobnicate']);
    expect(run.code).toBe(2);
    expect(run.err).toContain('unknown command "frobnicate"');
  });

  it.each(['info', 'preprocess', 'tokenize', 'convert', 'generate'])('%s --help prints the usage and the summary on stdout (exit 0)', async (name) => {
    const run = await runCliForTest([name, '--help']);
    expect(run).toMatchObject({ code: 0, err: '' });
    expect(run.out).toMatch(new RegExp(`^video-llava ${name} `));
  });
});

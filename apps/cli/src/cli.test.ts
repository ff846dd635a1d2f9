import { describe, expect, it } from 'vitest';
import { commandLoaders } from './commands/index.js';
import { runCliForTest } from './run-cli-for-test.js';

const flagNames = (text: string): string[] => [...new Set(text.match(/--[a-z][a-z-]*/g))].sort();

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

  it.each(Object.keys(commandLoaders))('%s --help prints the usage, the summary and every flag of the usage (exit 0)', async (name) => {
    const command = await commandLoaders[name]!.load();
    const run = await runCliForTest([name, '--help']);
    expect(run).toMatchObject({ code: 0, err: '' });
    expect(run.out).toMatch(new RegExp(`^Usage: video-llava ${name} `));
    expect(run.out).toContain(`\n\n${command.summary}\n\nOptions:\n`);
    expect(flagNames(command.options.map((option) => option.flag).join(' '))).toEqual(flagNames(command.usage));
  });

  it.each(Object.keys(commandLoaders))('%s accepts every flag its --help lists', async (name) => {
    const command = await commandLoaders[name]!.load();
    for (const flag of flagNames(command.options.map((option) => option.flag).join(' '))) {
      // Without its arguments the command stops at a usage error, but not at an unknown option.
      const run = await runCliForTest([name, flag]);
      expect(run.code, `${name} ${flag}`).toBe(2);
      expect(run.err, `${name} ${flag}`).not.toContain('Unknown option');
    }
  });
});

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

  it.each(Object.keys(commandLoaders))(
    '%s --help prints the usage, the summary and every flag of the usage (exit 0)',
    async (name) => {
      const command = await commandLoaders[name]!.load();
      const run = await runCliForTest([name, '--help']);
      expect(run).toMatchObject({ code: 0, err: '' });
      expect(run.out).toMatch(new RegExp(`^Usage: video-llava ${name} `));
      expect(run.out).toContain(`\n\n${command.summary}\n\nOptions:\n`);
      expect(
        Object.keys(command.options)
          .map((name) => `--${name}`)
          .sort(),
      ).toEqual(flagNames(command.usage));
      // each flag on a line of its own, with its description
      for (const flag of Object.keys(command.options))
        expect(run.out).toMatch(new RegExp(`^  --${flag}\\b.*  \\S`, 'm'));
    },
  );
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinyFixture } from '@video-llava/test-utils';
import { fc, hostileParameters } from '@video-llava/test-utils/hostile';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { commandLoaders } from './commands/index.js';
import { createTestIo } from './test-io.js';

// The hostile-input suite over the command line: generated words (the command's own flags with values of every kind,
// negative and odd numbers, '--', paths that exist (a video, an image: never a whole checkpoint, whose conversion is real work) and paths that do not, random text) must end in an exit code
// (0, 1 for bad input, 2 for bad usage) with a message, never in an exception (runCli throws what is neither a
// UsageError nor a VideoLlavaError) nor a hang. The commands that would start a server or a worker are left out
// (they wait for requests by design); their flags are checked by the same parser.
const COMMANDS = ['info', 'tokenize', 'preprocess', 'generate', 'convert'] as const;
const HANG_MILLISECONDS = 10_000;

const cwd = mkdtempSync(join(tmpdir(), 'cli-hostile-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('hostile command lines', () => {
  it.each(COMMANDS)(
    '%s: every generated command line ends in exit code 0, 1 or 2, never an exception',
    async (name) => {
      const command = await commandLoaders[name]!.load();
      const flags = Object.keys(command.options).map((flag) => `--${flag}`);
      const value = fc.oneof(
        fc.constantFrom(
          '-1',
          '-0.5',
          '1e309',
          'NaN',
          '0',
          '3',
          '99999999999999999999',
          '',
          ' ',
          '--',
          '-',
          '=',
          'q4',
          'decoder=q4,vision=x',
        ),
        fc.constantFrom(
          tinyFixture.video,
          join(tinyFixture.images, 'small_100x80.png'),
          './no-such-thing',
          '../../etc',
          '/',
        ),
        fc.string({ maxLength: 12 }),
      );
      const word = fc.oneof(
        fc.constantFrom(...flags),
        fc.constantFrom(...flags).map((flag) => `${flag}=`),
        value,
      );
      await fc.assert(
        fc.asyncProperty(fc.array(word, { maxLength: 8 }), async (words) => {
          const io = createTestIo(cwd);
          const started = performance.now();
          const code = await runCli([name, ...words], io);
          expect([0, 1, 2]).toContain(code);
          if (code !== 0) expect(io.err().length).toBeGreaterThan(0);
          expect(performance.now() - started).toBeLessThan(HANG_MILLISECONDS);
        }),
        hostileParameters(60),
      );
    },
    300_000,
  );
});

import { describe, expect, it } from 'vitest';
import { UsageError } from './command.js';
import { defineCommand } from './define-command.js';
import { createTestIo } from './test-io.js';

describe('defineCommand', () => {
  const command = defineCommand({
    name: 'echo',
    summary: 'Print a word',
    usage: 'video-llava echo <word> [--twice]',
    options: { twice: { type: 'boolean', default: false, description: 'print it twice' } },
    positionals: [{ name: '<word>', description: 'the word to print' }],
    async run({ values, positionals: [word] }, io) {
      io.stdout.write(`${values.twice ? `${word} ${word}` : word}\n`);
      return 0;
    },
  });

  it('runs on the parsed command line and keeps the flags for --help', async () => {
    const io = createTestIo();
    expect(await command.run(['hi', '--twice'], io)).toBe(0);
    expect(io.out()).toBe('hi hi\n');
    expect(Object.keys(command.options)).toEqual(['twice']);
  });

  it('throws a UsageError with the usage before running', async () => {
    await expect(command.run([], createTestIo())).rejects.toEqual(
      new UsageError('missing <word>: the word to print', 'video-llava echo <word> [--twice]'),
    );
  });
});

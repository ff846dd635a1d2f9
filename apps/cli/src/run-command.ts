import { VideoLlavaError } from '@video-llava/core';
import { type CliCommand, type CliIo, UsageError } from './command.js';
import { formatCommandHelp, formatUsage } from './command-help.js';

/**
 * Runs one sub-command with the words after its name: its help with `--help` or `-h` anywhere, else the command.
 * What it throws becomes the exit code: a {@link UsageError} prints the message and the usage (2), a
 * `VideoLlavaError` (bad input: a missing file, a bad checkpoint) prints the message (1); anything else is a bug and
 * is thrown on.
 * @returns the exit code: 0 success, 1 failure, 2 bad usage
 */
export async function runCommand(command: CliCommand, argv: string[], io: CliIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(formatCommandHelp(command));
    return 0;
  }
  try {
    return await command.run(argv, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`video-llava ${command.name}: ${error.message}\n${formatUsage(error.usage)}`);
      return 2;
    }
    if (VideoLlavaError.isInstance(error)) {
      io.stderr.write(`video-llava ${command.name}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

import { VideoLlavaError } from '@video-llava/core';
import { type CliIo, UsageError } from './command.js';
import { commandLoaders } from './commands/index.js';

function help(): string {
  const width = Math.max(...Object.keys(commandLoaders).map((name) => name.length));
  const lines = Object.entries(commandLoaders).map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`);
  return ['Usage: video-llava <command> [options]', '', 'Commands:', ...lines, '', 'Run `video-llava <command> --help` for a command\'s options.', ''].join('\n');
}

/**
 * Runs the `video-llava` command line with `argv` (without the node and script paths).
 * @returns the exit code: 0 success, 1 failure, 2 bad usage
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout).write(help());
    return name === undefined ? 2 : 0;
  }
  const entry = commandLoaders[name];
  if (!entry) {
    io.stderr.write(`video-llava: unknown command ${JSON.stringify(name)}\n\n${help()}`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${command.usage}\n\n${command.summary}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`video-llava ${name}: ${error.message}\nUsage: ${error.usage}\n`);
      return 2;
    }
    if (VideoLlavaError.isInstance(error)) {
      io.stderr.write(`video-llava ${name}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

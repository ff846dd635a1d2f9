import type { CliIo } from './command.js';
import { formatColumns, formatUsage } from './command-help.js';
import { commandLoaders } from './commands/index.js';
import { runCommand } from './run-command.js';

function help(): string {
  const commands = formatColumns(Object.entries(commandLoaders).map(([name, entry]) => [name, entry.summary]));
  return `${formatUsage('video-llava <command> [options]')}\nCommands:\n${commands}\nRun \`video-llava <command> --help\` for a command's options.\n`;
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
  return runCommand(await entry.load(), rest, io);
}

import type { CliCommand } from './command.js';

const USAGE_PREFIX = 'Usage: ';

/** Rows of two columns, the second aligned: `  first   second`, each line ending with a newline. */
export function formatColumns(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([first]) => first.length));
  return rows.map(([first, second]) => `  ${first.padEnd(width)}  ${second}\n`).join('');
}

/** `Usage: ` and a command's usage lines, the further lines indented to stay under the first. */
export function formatUsage(usage: string): string {
  return `${USAGE_PREFIX}${usage.split('\n').join(`\n${' '.repeat(USAGE_PREFIX.length)}`)}\n`;
}

/** What `video-llava <command> --help` prints: the usage, the summary and the options. */
export function formatCommandHelp(command: CliCommand): string {
  const options = Object.entries(command.options).map(([name, flag]): [string, string] => [
    `--${name}${flag.value ? ` ${flag.value}` : ''}`,
    flag.description,
  ]);
  return `${formatUsage(command.usage)}\n${command.summary}\n\nOptions:\n${formatColumns(options)}`;
}

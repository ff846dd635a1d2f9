import type { CliIo } from './command.js';

/**
 * The `--json` flag: print the result as JSON instead of text. Spread into a command's options.
 * @param description what `--json` prints, for `--help`
 */
export function jsonFlag(description: string): { json: { type: 'boolean'; default: false; description: string } } {
  return { json: { type: 'boolean', default: false, description } };
}

/** Options of {@link writeResult}. */
export interface WriteResultOptions<Result> {
  /** Whether `--json` was given. */
  json: boolean;
  /** The text printed without `--json`, newline included. */
  formatText: (result: Result) => string;
  /**
   * Indentation of the JSON (`JSON.stringify`'s `space`).
   * @default undefined (one line)
   */
  indent?: number;
}

/** Prints a command's result on stdout: one JSON value and a newline with `--json`, else the command's text. */
export function writeResult<Result>(io: CliIo, result: Result, options: WriteResultOptions<Result>): void {
  io.stdout.write(options.json ? `${JSON.stringify(result, null, options.indent)}\n` : options.formatText(result));
}

import type { ParseArgsOptionDescriptor } from 'node:util';

/** Where a command writes. Tests pass in-memory streams; the bin passes process.stdout/stderr. */
export interface CliIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  /** The working directory relative paths resolve against. */
  cwd: string;
  /** Environment variables (HF_TOKEN, HF_ENDPOINT, ...). */
  env: Record<string, string | undefined>;
  /**
   * What `--prompt-file -` and `chat` read; `isTTY` says whether a person types it.
   * @default none: reading stdin is refused
   */
  stdin?: (AsyncIterable<string | Uint8Array> & { isTTY?: boolean }) | undefined;
}

/** One flag of a command: how `node:util` `parseArgs` reads it, and how `--help` explains it. */
export interface FlagSpec extends ParseArgsOptionDescriptor {
  /** The value as the usage spells it, e.g. `N` for `--frames N`; none for a boolean flag. */
  value?: string;
  /** What the flag does, with its default, e.g. `frames to take (default: the checkpoint's num_frames)`. */
  description: string;
}

/** A command's flags by long name (without `--`), in the order of its usage line. */
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** One sub-command of the `video-llava` bin. */
export interface CliCommand {
  /** The word after `video-llava`. */
  name: string;
  /** One line for the help screen. */
  summary: string;
  /**
   * Usage line(s), e.g. `video-llava info <model-dir> [--json]`, without the `Usage: ` that `--help` and usage
   * errors put in front. Further lines start with spaces up to the first argument.
   */
  usage: string;
  /** Every flag the command takes, for `--help`. */
  options: FlagSpecs;
  /** Runs the command; returns the process exit code. Throw a `VideoLlavaError` for bad input: the bin prints it. */
  run(argv: string[], io: CliIo): Promise<number>;
}

/** Thrown for bad command-line usage; the bin prints the message and the usage, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Where a command writes. Tests pass in-memory streams; the bin passes process.stdout/stderr. */
export interface CliIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  /** The working directory relative paths resolve against. */
  cwd: string;
  /** Environment variables (HF_TOKEN, HF_ENDPOINT, ...). */
  env: Record<string, string | undefined>;
}

/** One line of the options a command's `--help` lists. */
export interface OptionHelp {
  /** The flag as the usage spells it, with its value, e.g. `--frames N`. */
  flag: string;
  /** What it does, with its default, e.g. `frames to take from the video (default: the checkpoint's num_frames)`. */
  description: string;
}

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
  /** Every flag the command takes, in the order of the usage, for `--help`. */
  options: readonly OptionHelp[];
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

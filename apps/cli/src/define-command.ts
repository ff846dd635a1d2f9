import type { CliCommand, CliIo, FlagSpecs } from './command.js';
import { type CommandLineSpec, type RequiredPositional, parseCommandLine } from './parse-command-line.js';

/** A command's command line, parsed and checked by {@link parseCommandLine}. */
export type ParsedCommandLine<
  Options extends FlagSpecs,
  Positionals extends readonly RequiredPositional[],
> = ReturnType<typeof parseCommandLine<Options, Positionals>>;

/** What {@link defineCommand} makes a {@link CliCommand} of. */
export interface CommandDefinition<Options extends FlagSpecs, Positionals extends readonly RequiredPositional[]>
  extends CommandLineSpec<Options, Positionals> {
  /** The word after `video-llava`. */
  name: string;
  /** One line for the help screen. */
  summary: string;
  /**
   * Runs the command on its parsed command line; returns the process exit code. Throw a `UsageError` for bad usage
   * beyond what the spec checks, a `VideoLlavaError` for bad input.
   */
  run(commandLine: ParsedCommandLine<Options, Positionals>, io: CliIo): Promise<number>;
}

/**
 * A {@link CliCommand} from its flags and positional arguments: `run` gets them parsed and checked (typed from
 * `options`), and `--help` lists the flags.
 */
export function defineCommand<const Options extends FlagSpecs, const Positionals extends readonly RequiredPositional[]>(
  definition: CommandDefinition<Options, Positionals>,
): CliCommand {
  return {
    name: definition.name,
    summary: definition.summary,
    usage: definition.usage,
    options: definition.options,
    // async, so that a usage error rejects the promise like any other failure
    run: async (argv, io) => definition.run(parseCommandLine(argv, definition), io),
  };
}

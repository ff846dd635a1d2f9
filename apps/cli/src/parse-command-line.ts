import { type ParseArgsOptionDescriptor, parseArgs } from 'node:util';
import { type FlagSpecs, UsageError } from './command.js';

/** A positional argument a command cannot run without. */
export interface RequiredPositional {
  /** As the usage line spells it, e.g. `<model-dir>`. */
  name: string;
  /** What to give, for the message when it is missing, e.g. `a checkpoint folder, a hub id (org/name) or a URL`. */
  description: string;
}

/** What a command accepts on its command line. */
export interface CommandLineSpec<Options extends FlagSpecs, Positionals extends readonly RequiredPositional[]> {
  /** The command's usage line(s), shown with every {@link UsageError}. */
  usage: string;
  /** The flags. */
  options: Options;
  /** The positional arguments, in order; each is required and no others are allowed. */
  positionals: Positionals;
}

const NEGATIVE_NUMBER = /^-(\d|\.\d|Infinity\b)/;

/**
 * `--flag -1` as `--flag=-1` for each flag that takes a value, so that a negative number reaches the flag's own check
 * (which names the accepted range) instead of `parseArgs`' guess that the value is a forgotten flag.
 */
function attachNegativeNumbers(argv: readonly string[], options: FlagSpecs): string[] {
  const result: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const word = argv[index]!;
    const next = argv[index + 1];
    if (word === '--') {
      result.push(...argv.slice(index));
      break;
    }
    if (
      word.startsWith('--') &&
      !word.includes('=') &&
      options[word.slice(2)]?.type === 'string' &&
      next !== undefined &&
      NEGATIVE_NUMBER.test(next)
    ) {
      result.push(`${word}=${next}`);
      index++;
    } else result.push(word);
  }
  return result;
}

/**
 * Parses a command's `argv` (the words after the command name) with `node:util` `parseArgs`, and checks its
 * positional arguments: each of `spec.positionals` given, nothing after them.
 *
 * @returns the flag values, typed from `spec.options`, and the positional arguments, one string per `spec.positionals` entry
 * @throws UsageError with `spec.usage` for an unknown flag, a flag without its value, a missing argument
 * (`missing <name>: <description>`) or an extra one; the bin prints it and exits 2
 */
export function parseCommandLine<
  const Options extends FlagSpecs,
  const Positionals extends readonly RequiredPositional[],
>(argv: string[], spec: CommandLineSpec<Options, Positionals>) {
  // parseArgs gets only what it knows: the help texts stay out
  const options = Object.fromEntries(
    Object.entries(spec.options).map(
      ([name, { value, description, ...descriptor }]): [string, ParseArgsOptionDescriptor] => [name, descriptor],
    ),
  ) as unknown as Options;
  let parsed;
  try {
    parsed = parseArgs({ args: attachNegativeNumbers(argv, spec.options), allowPositionals: true, options });
  } catch (error) {
    throw new UsageError((error as Error).message, spec.usage);
  }
  const { positionals } = parsed;
  spec.positionals.forEach((positional, index) => {
    if (positionals[index] === undefined)
      throw new UsageError(`missing ${positional.name}: ${positional.description}`, spec.usage);
  });
  const extra = positionals.slice(spec.positionals.length);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`, spec.usage);
  return { values: parsed.values, positionals: positionals as unknown as { [Index in keyof Positionals]: string } };
}

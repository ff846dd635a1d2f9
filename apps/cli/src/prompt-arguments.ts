import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { VideoLlavaError } from '@video-llava/core';
import { type CliIo, UsageError } from './command.js';

/**
 * The prompt flags of `generate`: the whole prompt or a question, on the command line or from a file (`-`: stdin).
 * A file keeps a long prompt off the command line (see the README: ONNX Runtime's telemetry and long command lines).
 */
export const promptFlags = {
  prompt: {
    type: 'string',
    value: 'TEXT',
    description: 'the whole prompt, with one <video> or <image> placeholder per --video and --image',
  },
  question: {
    type: 'string',
    value: 'TEXT',
    description: 'a question, put in the conversation format for you (USER: <image>/<video> ... ASSISTANT:)',
  },
  'prompt-file': {
    type: 'string',
    value: 'FILE',
    description: 'read the whole prompt (as --prompt) from FILE, - for stdin',
  },
  'question-file': {
    type: 'string',
    value: 'FILE',
    description: 'read the question (as --question) from FILE, - for stdin',
  },
} as const;

/** The values {@link promptFlags} parse to. */
export interface PromptFlagValues {
  prompt?: string | undefined;
  question?: string | undefined;
  'prompt-file'?: string | undefined;
  'question-file'?: string | undefined;
}

/** All of a stream, as UTF-8 text. */
export async function readAllText(stream: AsyncIterable<string | Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of stream) text += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

async function readTextArgument(file: string, flag: string, io: CliIo, usage: string): Promise<string> {
  if (file === '-') {
    if (!io.stdin) throw new UsageError(`${flag} -: there is no standard input to read`, usage);
    return readAllText(io.stdin);
  }
  const path = resolve(io.cwd, file);
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new VideoLlavaError(
      code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'INVALID_FILE',
      `${flag} ${file}: ${code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? (error as Error).message})`}.`,
      {
        file: path,
        field: flag,
        expected: 'a readable text file',
        actual: code,
        cause: error,
      },
    );
  }
}

/**
 * The prompt or the question, exactly one of the four flags given. A file's one trailing newline is dropped (an
 * editor's), nothing else.
 * @throws UsageError for none or several; VideoLlavaError `FILE_NOT_FOUND` for a missing file
 */
export async function readPromptArguments(
  values: PromptFlagValues,
  io: CliIo,
  usage: string,
): Promise<{ prompt: string } | { question: string }> {
  const given = (['prompt', 'question', 'prompt-file', 'question-file'] as const).filter(
    (flag) => values[flag] !== undefined,
  );
  if (given.length === 0)
    throw new UsageError(
      'give --prompt TEXT (the whole prompt, with <video> / <image>), --question TEXT, --prompt-file FILE or --question-file FILE',
      usage,
    );
  if (given.length > 1)
    throw new UsageError(
      `give one of --prompt, --question, --prompt-file and --question-file, not --${given.join(' and --')}`,
      usage,
    );
  const flag = given[0]!;
  if (flag === 'prompt') return { prompt: values.prompt! };
  if (flag === 'question') return { question: values.question! };
  const text = (await readTextArgument(values[flag]!, `--${flag}`, io, usage)).replace(/\r?\n$/, '');
  return flag === 'prompt-file' ? { prompt: text } : { question: text };
}

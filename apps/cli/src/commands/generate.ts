import { resolve } from 'node:path';
import type { ProgressEvent } from '@video-llava/core';
import { type ChatMessage, VideoLlava, type VideoLlavaRequest } from 'video-llava';
import { type CliCommand, type CliIo, UsageError } from '../command.js';
import { defineCommand } from '../define-command.js';
import { sourceFlags, sourceOptionsFromFlags } from '../model-source-arguments.js';
import { jsonFlag } from '../write-result.js';

const usage = [
  'video-llava generate <model-dir | org/name[@revision] | https://...> (--prompt TEXT | --question TEXT)',
  '                     [--video FILE]... [--image FILE]... [--max-new-tokens N]',
  '                     [--greedy | --temperature T --top-k K --top-p P --seed S]',
  '                     [--json] [--quiet] [--cache-dir <dir>] [--offline]',
].join('\n');

/** What `generate --json` prints as the last line of stdout. */
export interface GenerateResult {
  /** The new token ids (no padding). */
  ids: number[];
  /** Their text, special tokens left out. */
  text: string;
}

const SAMPLING_FLAGS = ['temperature', 'top-k', 'top-p', 'seed'] as const;

function number(value: string | undefined, flag: string, integer: boolean, minimum: number): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || (integer && !Number.isInteger(parsed)) || parsed < minimum) {
    throw new UsageError(`--${flag} must be ${integer ? 'an integer' : 'a number'} >= ${minimum}, found ${JSON.stringify(value)}`, usage);
  }
  return parsed;
}

/** The conversation format around a question: `USER: <image>\n<video>\n{question} ASSISTANT:` (via the processor). */
function questionMessages(question: string, images: number, videos: number): ChatMessage[] {
  return [
    {
      role: 'user',
      content: [...Array.from({ length: images }, () => ({ type: 'image' as const })), ...Array.from({ length: videos }, () => ({ type: 'video' as const })), { type: 'text' as const, text: question }],
    },
  ];
}

/** Progress on stderr, one line per finished stage or file (token by token, the streamed text shows it). */
function progressPrinter(io: CliIo): (event: ProgressEvent) => void {
  const printed = new Set<string>();
  return (event) => {
    if (event.stage === 'decode' || event.total === undefined || event.done < event.total) return;
    const key = `${event.stage} ${event.file ?? ''}`;
    if (printed.has(key)) return;
    printed.add(key);
    // "1 items" says nothing: a count is shown when there is something to count
    const count = event.unit === 'items' && event.total === 1 ? '' : ` ${event.total}${event.unit ? ` ${event.unit}` : ''}`;
    io.stderr.write(`[${event.stage}]${event.file ? ` ${event.file}` : ''}${count || (event.file ? '' : ' done')}\n`);
  };
}

/**
 * `video-llava generate`: loads a converted model, asks the question about the videos and images, streams the answer
 * to stdout (progress to stderr). `<model-dir>` must be converted (`video-llava convert`): a raw checkpoint is refused
 * with the command that converts it.
 */
export const command: CliCommand = defineCommand({
  name: 'generate',
  summary: 'Ask a question about videos and images and stream the answer',
  usage,
  options: {
    prompt: { type: 'string', value: 'TEXT', description: 'the whole prompt, with one <video> or <image> placeholder per --video and --image' },
    question: { type: 'string', value: 'TEXT', description: 'a question, put in the conversation format for you (USER: <image>/<video> ... ASSISTANT:)' },
    video: { type: 'string', multiple: true, default: [], value: 'FILE', description: 'a video to ask about; repeat for several' },
    image: { type: 'string', multiple: true, default: [], value: 'FILE', description: 'an image to ask about; repeat for several' },
    'max-new-tokens': { type: 'string', value: 'N', description: "the most tokens to generate (default: the checkpoint's generation_config.json)" },
    greedy: { type: 'boolean', default: false, description: 'take the most likely token at each step, never sample' },
    temperature: { type: 'string', value: 'T', description: 'sample, with this temperature' },
    'top-k': { type: 'string', value: 'K', description: 'sample from the K most likely tokens' },
    'top-p': { type: 'string', value: 'P', description: 'sample from the most likely tokens that together reach probability P' },
    seed: { type: 'string', value: 'S', description: 'sample, with this seed: the same seed gives the same answer' },
    ...jsonFlag('after the answer, print {"ids", "text"} as one JSON line'),
    quiet: { type: 'boolean', default: false, description: 'no progress lines on stderr' },
    ...sourceFlags,
  },
  positionals: [{ name: '<model-dir>', description: 'a converted model folder (video-llava convert), a hub id or a URL' }],
  async run({ values, positionals: [model] }, io) {
    if ((values.prompt === undefined) === (values.question === undefined)) {
      throw new UsageError(values.prompt === undefined ? 'give --prompt TEXT (the whole prompt, with <video> / <image>) or --question TEXT' : 'give --prompt or --question, not both', usage);
    }
    const sampling = SAMPLING_FLAGS.filter((flag) => values[flag] !== undefined);
    if (values.greedy && sampling.length > 0) throw new UsageError(`--greedy cannot go with --${sampling.join(', --')} (those sample)`, usage);
    const maxNewTokens = number(values['max-new-tokens'], 'max-new-tokens', true, 1);
    const temperature = number(values.temperature, 'temperature', false, 0);
    const topK = number(values['top-k'], 'top-k', true, 0);
    const topP = number(values['top-p'], 'top-p', false, 0);
    const seed = number(values.seed, 'seed', true, 0);
    const videos = values.video.map((file) => resolve(io.cwd, file));
    const images = values.image.map((file) => resolve(io.cwd, file));
    const onProgress = values.quiet ? undefined : progressPrinter(io);

    const videoLlava = await VideoLlava.load(model, {
      sourceOptions: sourceOptionsFromFlags(values, io),
      ...(onProgress ? { onProgress } : {}),
    });
    try {
      const request: VideoLlavaRequest = {
        ...(values.prompt !== undefined ? { prompt: values.prompt } : { messages: questionMessages(values.question!, images.length, videos.length) }),
        videos,
        images,
        ...(maxNewTokens === undefined ? {} : { maxNewTokens }),
        ...(values.greedy ? { doSample: false } : {}),
        ...(sampling.length > 0 ? { doSample: true } : {}),
        ...(temperature === undefined ? {} : { temperature }),
        ...(topK === undefined ? {} : { topK }),
        ...(topP === undefined ? {} : { topP }),
        ...(seed === undefined ? {} : { seed }),
        ...(onProgress ? { onProgress } : {}),
        onWarning: (warning) => io.stderr.write(`warning: ${warning.message}\n`),
      };
      const stream = videoLlava.stream(request);
      for await (const delta of stream) io.stdout.write(delta.text);
      const answer = await stream.result;
      io.stdout.write('\n');
      if (values.json) io.stdout.write(`${JSON.stringify({ ids: answer.ids, text: answer.text } satisfies GenerateResult)}\n`);
      if (!values.quiet) io.stderr.write(`[done] ${answer.ids.length} tokens (${answer.finishReason})${answer.seed === undefined ? '' : `, seed ${answer.seed}`}\n`);
      return 0;
    } finally {
      await videoLlava.release();
    }
  },
});

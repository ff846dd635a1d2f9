import { type CliCommand, UsageError } from '../command.js';
import { defineCommand } from '../define-command.js';
import type { GenerationTimings } from '../generation-timings.js';
import { loadVideoLlava } from '../load-video-llava.js';
import { checkMediaFiles } from '../media-file-arguments.js';
import { modelLoadFlags, parseModelLoadFlags } from '../model-load-arguments.js';
import { checkModelArgument, sourceFlags } from '../model-source-arguments.js';
import { createProgressDisplay } from '../progress-display.js';
import { promptFlags, readPromptArguments } from '../prompt-arguments.js';
import { parseSamplingFlags, samplingFlags } from '../sampling-arguments.js';
import { questionMessage, streamAnswer } from '../stream-answer.js';
import { jsonFlag } from '../write-result.js';

const usage = [
  'video-llava generate <model-dir | org/name[@revision] | https://...>',
  '                     (--prompt TEXT | --question TEXT | --prompt-file FILE | --question-file FILE)',
  '                     [--video FILE]... [--image FILE]... [--max-new-tokens N]',
  '                     [--greedy | --temperature T --top-k K --top-p P --seed S]',
  '                     [--dtype DTYPE | PART=DTYPE,...] [--threads N] [--kv-cache float32|int8]',
  '                     [--prepack-cache on|DIR|off]',
  '                     [--json] [--quiet] [--cache-dir <dir>] [--offline]',
].join('\n');

/** What `generate --json` prints as the last line of stdout. */
export interface GenerateResult {
  /** The new token ids (no padding). */
  ids: number[];
  /** Their text, special tokens left out. */
  text: string;
  /** The prompt's length in tokens, after the `<image>` / `<video>` expansion. */
  promptTokens: number;
  /** Where the time went (ms). */
  timings: GenerationTimings;
}

/**
 * `video-llava generate`: loads a converted model, asks the question about the videos and images, streams the answer
 * to stdout (progress to stderr). `<model-dir>` must be converted (`video-llava convert`): a raw checkpoint is refused
 * with the command that converts it. Every argument is checked before the model loads.
 */
export const command: CliCommand = defineCommand({
  name: 'generate',
  summary: 'Ask a question about videos and images and stream the answer',
  usage,
  options: {
    ...promptFlags,
    video: {
      type: 'string',
      multiple: true,
      default: [],
      value: 'FILE',
      description: 'a video to ask about; repeat for several',
    },
    image: {
      type: 'string',
      multiple: true,
      default: [],
      value: 'FILE',
      description: 'an image to ask about; repeat for several',
    },
    ...samplingFlags,
    ...modelLoadFlags,
    ...jsonFlag('after the answer, print {"ids", "text", "promptTokens", "timings"} as one JSON line'),
    quiet: { type: 'boolean', default: false, description: 'no progress on stderr' },
    ...sourceFlags,
  },
  positionals: [
    { name: '<model-dir>', description: 'a converted model folder (video-llava convert), a hub id or a URL' },
  ],
  async run({ values, positionals: [model] }, io) {
    // Everything the command line says is checked before the model loads.
    const generation = parseSamplingFlags(values, usage);
    const load = parseModelLoadFlags(values, usage);
    const prompt = await readPromptArguments(values, io, usage);
    if ('prompt' in prompt && prompt.prompt.trim() === '') throw new UsageError('the prompt is empty', usage);
    checkModelArgument(model, io.cwd);
    const { videos, images } = await checkMediaFiles({ videos: values.video, images: values.image }, io.cwd);

    const display = values.quiet ? undefined : createProgressDisplay(io.stderr);
    const onProgress = display ? (event: Parameters<typeof display.update>[0]) => display.update(event) : undefined;
    const { videoLlava, loadMilliseconds } = await loadVideoLlava(model, values, load, io, onProgress, {
      videos: videos.length,
      images: images.length,
    });
    try {
      const { answer, timings } = await streamAnswer(
        videoLlava,
        {
          ...('prompt' in prompt
            ? { prompt: prompt.prompt }
            : { messages: [questionMessage(prompt.question, images.length, videos.length)] }),
          videos,
          images,
          ...generation,
          onWarning: (warning) => io.stderr.write(`warning: ${warning.message}\n`),
        },
        (text) => {
          display?.finish();
          io.stdout.write(text);
        },
        onProgress,
        loadMilliseconds,
      );
      io.stdout.write('\n');
      display?.finish();
      if (values.json) {
        io.stdout.write(
          `${JSON.stringify({ ids: answer.ids, text: answer.text, promptTokens: answer.promptTokens, timings } satisfies GenerateResult)}\n`,
        );
      }
      if (!values.quiet)
        io.stderr.write(
          `[done] ${answer.ids.length} tokens (${answer.finishReason})${answer.seed === undefined ? '' : `, seed ${answer.seed}`}\n`,
        );
      return 0;
    } finally {
      display?.finish();
      await videoLlava.release();
    }
  },
});

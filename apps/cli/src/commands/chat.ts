import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { VideoLlavaError } from '@video-llava/core';
import { type ChatMessage, type ImageInput, type VideoInput, VideoLlava } from 'video-llava';
import { type CliCommand, type CliIo, UsageError } from '../command.js';
import { defineCommand } from '../define-command.js';
import type { GenerationTimings } from '../generation-timings.js';
import { loadVideoLlava } from '../load-video-llava.js';
import { checkMediaFiles } from '../media-file-arguments.js';
import { modelLoadFlags, parseModelLoadFlags } from '../model-load-arguments.js';
import { checkModelArgument, sourceFlags } from '../model-source-arguments.js';
import { createProgressDisplay } from '../progress-display.js';
import { parseSamplingFlags, samplingFlags } from '../sampling-arguments.js';
import { questionMessage, streamAnswer } from '../stream-answer.js';
import { jsonFlag } from '../write-result.js';

const usage = [
  'video-llava chat <model-dir | org/name[@revision] | https://...> [--video FILE]... [--image FILE]...',
  '                 [--max-new-tokens N] [--greedy | --temperature T --top-k K --top-p P --seed S]',
  '                 [--dtype DTYPE | PART=DTYPE,...] [--threads N] [--kv-cache float32|int8]',
  '                 [--prepack-cache on|DIR|off] [--json] [--quiet]',
  '                 [--cache-dir <dir>] [--offline]',
].join('\n');

const HELP = [
  'Type a question and press Enter. Commands:',
  '  /image FILE  add an image to the next question',
  '  /video FILE  add a video to the next question',
  '  /reset       start a new conversation about the same media',
  '  /quit        leave (or Ctrl-D; Ctrl-C stops an answer)',
  '',
].join('\n');

/** What `chat --json` prints per answer: one JSON line. */
export interface ChatAnswerResult {
  question: string;
  ids: number[];
  text: string;
  promptTokens: number;
  /** Prompt positions taken from the cached prefix of the conversation so far (not run again). */
  reusedPrefixTokens: number;
  timings: GenerationTimings;
}

/** Lines of a text stream, without their line ends; the last one even without a newline. */
async function* readLines(stream: AsyncIterable<string | Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of stream) {
    pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let end = pending.indexOf('\n');
    while (end >= 0) {
      yield pending.slice(0, end).replace(/\r$/, '');
      pending = pending.slice(end + 1);
      end = pending.indexOf('\n');
    }
  }
  pending += decoder.decode();
  if (pending !== '') yield pending.replace(/\r$/, '');
}

/**
 * Lines a person types at a terminal, with readline's editing and history (up arrow), a `> ` prompt while it waits.
 * Ctrl-C calls `onInterrupt` (which stops an answer and returns true), else ends the input.
 */
async function* readTerminalLines(io: CliIo, onInterrupt: () => boolean): AsyncGenerator<string> {
  const lines = createInterface({
    input: io.stdin as Readable,
    output: io.stdout as Writable,
    terminal: true,
    historySize: 1000,
    prompt: '> ',
  });
  // pasted lines arrive together: each is kept until its turn
  const queue: string[] = [];
  let closed = false;
  let wake: (() => void) | undefined;
  lines.on('line', (line) => {
    queue.push(line);
    wake?.();
  });
  lines.on('close', () => {
    closed = true;
    wake?.();
  });
  lines.on('SIGINT', () => {
    if (!onInterrupt()) lines.close();
  });
  try {
    for (;;) {
      if (queue.length > 0) {
        yield queue.shift()!;
        continue;
      }
      if (closed) return;
      lines.prompt();
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  } finally {
    lines.close();
  }
}

/**
 * The media of a conversation: decoded and preprocessed once (a follow-up neither decodes nor, thanks to the cached
 * prefix, encodes them again), each put in the question after it was added.
 */
class ConversationMedia {
  readonly videos: VideoInput[] = [];
  readonly images: ImageInput[] = [];
  #askedVideos = 0;
  #askedImages = 0;

  constructor(
    private readonly videoLlava: VideoLlava,
    private readonly cwd: string,
  ) {}

  async add(kind: 'video' | 'image', file: string): Promise<void> {
    const checked = await checkMediaFiles(
      kind === 'video' ? { videos: [file], images: [] } : { videos: [], images: [file] },
      this.cwd,
    );
    const numFrames = this.videoLlava.config.processor.videoProcessor.numFrames;
    const platform = VideoLlava.platform;
    // The pixel values, as the pipeline makes them from a file: a follow-up takes them as they are.
    const processor = this.videoLlava.processor;
    if (kind === 'video')
      this.videos.push(
        processor.videoProcessor.preprocess(await platform.loadVideo(checked.videos[0]!, { numFrames }))
          .pixelValuesVideos,
      );
    else
      this.images.push(
        processor.imageProcessor.preprocess(await platform.loadImage(checked.images[0]!, { numFrames })).pixelValues,
      );
  }

  /** The placeholders the next question carries: the media added since the last question. */
  takeNew(): { images: number; videos: number } {
    const next = { images: this.images.length - this.#askedImages, videos: this.videos.length - this.#askedVideos };
    this.#askedImages = this.images.length;
    this.#askedVideos = this.videos.length;
    return next;
  }

  /** Undoes {@link takeNew} (the question failed, so its media go with the next one). */
  giveBack(taken: { images: number; videos: number }): void {
    this.#askedImages -= taken.images;
    this.#askedVideos -= taken.videos;
  }

  /** A new conversation: every medium goes with the next question again. */
  reset(): void {
    this.#askedImages = 0;
    this.#askedVideos = 0;
  }
}

function errorMessage(error: unknown): string {
  return VideoLlavaError.isInstance(error) ? error.message : error instanceof Error ? error.message : String(error);
}

/**
 * `video-llava chat`: a conversation about videos and images. At a terminal, readline with history and commands
 * (`/image`, `/video`, `/reset`, `/quit`); otherwise one question per input line and one answer per output line
 * (line breaks inside an answer become spaces; `--json` keeps them, one JSON object per line). Follow-ups reuse the
 * cached prefix of the conversation, so the media are encoded once.
 */
export const command: CliCommand = defineCommand({
  name: 'chat',
  summary: 'Talk about videos and images: questions and follow-ups, interactively or one per line',
  usage,
  options: {
    video: {
      type: 'string',
      multiple: true,
      default: [],
      value: 'FILE',
      description: 'a video to talk about; repeat for several (or /video FILE in the chat)',
    },
    image: {
      type: 'string',
      multiple: true,
      default: [],
      value: 'FILE',
      description: 'an image to talk about; repeat for several (or /image FILE in the chat)',
    },
    ...samplingFlags,
    ...modelLoadFlags,
    ...jsonFlag(
      'print each answer as one JSON line {"question", "ids", "text", "promptTokens", "reusedPrefixTokens", "timings"}',
    ),
    quiet: { type: 'boolean', default: false, description: 'no progress on stderr' },
    ...sourceFlags,
  },
  positionals: [
    { name: '<model-dir>', description: 'a converted model folder (video-llava convert), a hub id or a URL' },
  ],
  async run({ values, positionals: [model] }, io) {
    const generation = parseSamplingFlags(values, usage);
    const load = parseModelLoadFlags(values, usage);
    if (!io.stdin) throw new UsageError('chat reads questions from standard input, and there is none', usage);
    checkModelArgument(model, io.cwd);
    const files = await checkMediaFiles({ videos: values.video, images: values.image }, io.cwd);
    const interactive = io.stdin.isTTY === true;

    const display = values.quiet ? undefined : createProgressDisplay(io.stderr);
    const onProgress = display ? (event: Parameters<typeof display.update>[0]) => display.update(event) : undefined;
    const { videoLlava, loadMilliseconds } = await loadVideoLlava(model, values, load, io, onProgress, {
      videos: files.videos.length,
      images: files.images.length,
    });
    let failed = false;
    try {
      const media = new ConversationMedia(videoLlava, io.cwd);
      for (const file of files.videos) await media.add('video', file);
      for (const file of files.images) await media.add('image', file);
      let history: ChatMessage[] = [];
      let loadTime = loadMilliseconds;
      // the answer being written, which Ctrl-C at a terminal stops
      let answering: AbortController | undefined;
      const interrupt = (): boolean => {
        if (answering === undefined) return false;
        answering.abort();
        return true;
      };
      if (interactive) io.stderr.write(HELP);
      for await (const raw of interactive ? readTerminalLines(io, interrupt) : readLines(io.stdin)) {
        const line = raw.trim();
        if (line === '') continue;
        if (line.startsWith('/')) {
          const [name, ...rest] = line.split(/\s+/);
          const argument = line.slice(name!.length).trim();
          if (name === '/quit' || name === '/exit') break;
          if (name === '/reset') {
            history = [];
            media.reset();
            videoLlava.clearPrefixCache();
            io.stderr.write('[reset] a new conversation about the same media\n');
          } else if ((name === '/image' || name === '/video') && rest.length > 0) {
            const kind = name === '/image' ? 'image' : 'video';
            try {
              await media.add(kind, argument);
              io.stderr.write(`[${kind}] ${argument}: goes with the next question\n`);
            } catch (error) {
              failed = true;
              io.stderr.write(`video-llava chat: ${errorMessage(error)}\n`);
            }
          } else if (name === '/help') io.stderr.write(HELP);
          else
            io.stderr.write(
              `video-llava chat: ${name === '/image' || name === '/video' ? `${name} needs a file: ${name} FILE` : `unknown command ${name}`}\n${HELP}`,
            );
          continue;
        }
        const taken = media.takeNew();
        const question = questionMessage(line, taken.images, taken.videos);
        answering = new AbortController();
        try {
          const { answer, timings, reusedPrefixTokens } = await streamAnswer(
            videoLlava,
            {
              messages: [...history, question],
              videos: media.videos,
              images: media.images,
              ...generation,
              signal: answering.signal,
            },
            (text) => {
              display?.finish();
              if (!values.json) io.stdout.write(interactive ? text : text.replace(/[\r\n]+/g, ' '));
            },
            onProgress,
            loadTime,
          );
          loadTime = 0;
          display?.finish();
          if (values.json) {
            io.stdout.write(
              `${JSON.stringify({ question: line, ids: answer.ids, text: answer.text, promptTokens: answer.promptTokens, reusedPrefixTokens, timings } satisfies ChatAnswerResult)}\n`,
            );
          } else io.stdout.write('\n');
          if (answer.finishReason === 'abort')
            io.stderr.write('[stopped] the answer so far stays in the conversation\n');
          history = [...history, question, { role: 'assistant', content: [{ type: 'text', text: answer.text }] }];
        } catch (error) {
          // The question is not part of the conversation; its media go with the next one. One line per question
          // stays one line per answer.
          media.giveBack(taken);
          failed = true;
          display?.finish();
          io.stdout.write('\n');
          io.stderr.write(`video-llava chat: ${errorMessage(error)}\n`);
          if (!VideoLlavaError.isInstance(error)) throw error;
        } finally {
          answering = undefined;
        }
      }
      return failed && !interactive ? 1 : 0;
    } finally {
      display?.finish();
      await videoLlava.release();
    }
  },
});

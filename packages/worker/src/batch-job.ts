import { VideoLlavaError, describeValue } from '@video-llava/core';
import type { ChatMessage, FinishReason, VideoLlavaRequest } from 'video-llava';

/**
 * The decoding options a job may carry, named as in `VideoLlava.generate`'s request (JSON values only: no
 * callbacks, no random generator). Anything left out comes from the checkpoint's `generation_config.json`.
 */
export interface BatchGenerationOptions {
  maxNewTokens?: number;
  minNewTokens?: number;
  maxLength?: number;
  minLength?: number;
  doSample?: boolean;
  numBeams?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repetitionPenalty?: number;
  noRepeatNgramSize?: number;
  lengthPenalty?: number;
  earlyStopping?: boolean | 'never';
  stopStrings?: string | string[];
  seed?: number;
  skipSpecialTokens?: boolean;
}

/**
 * One question of a batch, one JSON object a line in a `jobs.jsonl` file:
 * `{"id": "clip-1/why", "question": "Why is this funny?", "videos": ["clips/1.mp4"], "maxNewTokens": 64}`.
 * Give exactly one of `question`, `prompt` and `messages`.
 */
export interface BatchJob extends BatchGenerationOptions {
  /** The job's id: submitting the same id twice is one job, and its result carries it. */
  id: string;
  /**
   * A question, put in the conversation format for you (`USER: <image>...<video>\n{question} ASSISTANT:`, through
   * the checkpoint's chat template), one placeholder per image and video, images first, as `video-llava generate
   * --question` does.
   */
  question?: string;
  /** The whole prompt as the model sees it, with one `<video>` per video and one `<image>` per image. */
  prompt?: string;
  /** Chat messages, turned into the prompt by the checkpoint's chat template. */
  messages?: ChatMessage[];
  /** Video files (paths the worker can read, `file:` or `http(s):` URLs), in the order of the `<video>` placeholders. */
  videos?: string[];
  /** Image files (paths or URLs), in the order of the `<image>` placeholders. */
  images?: string[];
}

/** How long a job took, in milliseconds (wall clock on the worker, except `queueMs`). */
export interface BatchJobTimings {
  /** From submission to the start of the attempt that answered (includes any earlier failed or crashed attempts). */
  queueMs: number;
  /** From the start of the attempt to the first generated token (media decoding, encoding, prefill). */
  firstTokenMs: number;
  /** The whole attempt. */
  totalMs: number;
}

/** A job's answer. */
export interface BatchAnswer {
  id: string;
  /** The generated text (special tokens left out unless the job set `skipSpecialTokens: false`). */
  text: string;
  /** The new token ids. */
  ids: number[];
  finishReason: FinishReason;
  /** Prompt length in tokens (after the `<image>` / `<video>` expansion). */
  promptTokens: number;
  timings: BatchJobTimings;
  /** The name of the worker that answered. */
  worker: string;
  /**
   * Prompt positions taken from the worker's cached prefix instead of being encoded and prefilled again (a job about
   * the video of the worker's previous job). Counted when the worker runs one job at a time (`concurrency: 1`).
   */
  reusedPrefixTokens?: number;
}

/** Why a job failed, for good: bad input at once, anything else after its attempts ran out. */
export interface BatchJobError {
  /**
   * A `VideoLlavaError` code (`FILE_NOT_FOUND`, `INVALID_ARGUMENT`, `DECODE_FAILED`, ...), `WORKER_LOST` when workers
   * kept dying while running it, or `JOB_FAILED` for an error without a code.
   */
  code: string;
  message: string;
}

/** A job's failure. */
export interface BatchFailure {
  id: string;
  error: BatchJobError;
}

/** What `collectResults` gives for every job: its answer or its error. */
export type BatchResult = BatchAnswer | BatchFailure;

/** Whether a result is a failure. */
export function isBatchFailure(result: BatchResult): result is BatchFailure {
  return 'error' in result;
}

const NUMBER_OPTIONS = [
  'maxNewTokens',
  'minNewTokens',
  'maxLength',
  'minLength',
  'numBeams',
  'temperature',
  'topK',
  'topP',
  'minP',
  'repetitionPenalty',
  'noRepeatNgramSize',
  'lengthPenalty',
  'seed',
] as const;
const BOOLEAN_OPTIONS = ['doSample', 'skipSpecialTokens'] as const;
const KNOWN_FIELDS = new Set<string>([
  'id',
  'question',
  'prompt',
  'messages',
  'videos',
  'images',
  'earlyStopping',
  'stopStrings',
  ...NUMBER_OPTIONS,
  ...BOOLEAN_OPTIONS,
]);
/** Longest job id: ids become Redis keys. */
const MAX_ID_LENGTH = 512;

function invalid(where: string, field: string, expected: string, actual: unknown): VideoLlavaError {
  const found = describeValue(actual);
  return new VideoLlavaError('INVALID_ARGUMENT', `${where}: "${field}" must be ${expected}, found ${found}.`, {
    field,
    expected,
    actual: found,
  });
}

function stringList(value: unknown, where: string, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.some((item) => typeof item !== 'string' || item === ''))
    throw invalid(where, field, 'a file path or URL, or a list of them', value);
  return [...list] as string[];
}

/**
 * Checks one job (a parsed JSON line) and returns it normalized: the id as a string, `videos` / `images` as lists.
 * Unknown fields are refused, so that a misspelt option (`max_new_tokens`) is never silently ignored.
 *
 * @param where how to name the job in errors, e.g. `jobs.jsonl line 3`
 * @throws VideoLlavaError `INVALID_ARGUMENT` naming the field, what was expected and what was found
 */
export function parseBatchJob(value: unknown, where = 'job'): BatchJob {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `${where}: a job must be a JSON object {"id", "question" | "prompt" | "messages", ...}, found ${describeValue(value)}.`,
      {
        field: 'job',
        expected: 'an object',
        actual: describeValue(value),
      },
    );
  }
  const raw = value as Record<string, unknown>;
  const unknown = Object.keys(raw).filter((key) => !KNOWN_FIELDS.has(key));
  if (unknown.length > 0) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `${where}: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((key) => `"${key}"`).join(', ')} (fields: ${[...KNOWN_FIELDS].join(', ')}).`,
      {
        field: unknown[0],
        expected: [...KNOWN_FIELDS],
        actual: unknown,
      },
    );
  }
  const id = typeof raw.id === 'number' && Number.isSafeInteger(raw.id) ? String(raw.id) : raw.id;
  if (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH)
    throw invalid(where, 'id', `a non-empty string (at most ${MAX_ID_LENGTH} characters) or an integer`, raw.id);
  const at = `${where} (id ${JSON.stringify(id)})`;
  const given = (['question', 'prompt', 'messages'] as const).filter((field) => raw[field] !== undefined);
  if (given.length !== 1) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `${at}: give exactly one of "question", "prompt" and "messages", found ${given.length === 0 ? 'none' : given.join(' and ')}.`,
      {
        field: 'question',
        expected: 'one of question, prompt, messages',
        actual: given,
      },
    );
  }
  const job: BatchJob = { id };
  if (raw.question !== undefined) {
    if (typeof raw.question !== 'string' || raw.question.trim() === '')
      throw invalid(at, 'question', 'a non-empty string', raw.question);
    job.question = raw.question;
  }
  if (raw.prompt !== undefined) {
    if (typeof raw.prompt !== 'string' || raw.prompt === '')
      throw invalid(at, 'prompt', 'a non-empty string', raw.prompt);
    job.prompt = raw.prompt;
  }
  if (raw.messages !== undefined) {
    const messages = raw.messages;
    if (
      !Array.isArray(messages) ||
      messages.length === 0 ||
      messages.some(
        (message) =>
          typeof message !== 'object' ||
          message === null ||
          typeof message.role !== 'string' ||
          (typeof message.content !== 'string' && !Array.isArray(message.content)),
      )
    ) {
      throw invalid(at, 'messages', 'a non-empty list of {role, content}', messages);
    }
    job.messages = messages as ChatMessage[];
  }
  const videos = stringList(raw.videos, at, 'videos');
  const images = stringList(raw.images, at, 'images');
  if (videos) job.videos = videos;
  if (images) job.images = images;
  const options = job as unknown as Record<string, unknown>;
  for (const field of NUMBER_OPTIONS) {
    if (raw[field] === undefined) continue;
    if (typeof raw[field] !== 'number' || !Number.isFinite(raw[field]))
      throw invalid(at, field, 'a number', raw[field]);
    options[field] = raw[field];
  }
  for (const field of BOOLEAN_OPTIONS) {
    if (raw[field] === undefined) continue;
    if (typeof raw[field] !== 'boolean') throw invalid(at, field, 'true or false', raw[field]);
    options[field] = raw[field];
  }
  if (raw.earlyStopping !== undefined) {
    if (typeof raw.earlyStopping !== 'boolean' && raw.earlyStopping !== 'never')
      throw invalid(at, 'earlyStopping', 'true, false or "never"', raw.earlyStopping);
    job.earlyStopping = raw.earlyStopping;
  }
  if (raw.stopStrings !== undefined) job.stopStrings = stringList(raw.stopStrings, at, 'stopStrings')!;
  return job;
}

/**
 * Reads a `jobs.jsonl` text: one job a line (blank lines skipped), each checked by {@link parseBatchJob}; an id
 * given twice is refused (it would be one job).
 *
 * @param file the file's name, for errors
 * @throws VideoLlavaError `INVALID_JSON` (a line that is not JSON) or `INVALID_ARGUMENT`, naming the file and line
 */
export function parseBatchJobLines(text: string, file = 'jobs.jsonl'): BatchJob[] {
  const jobs: BatchJob[] = [];
  const lines = new Map<string, number>();
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${file} line ${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new VideoLlavaError(
        'INVALID_JSON',
        `${where} is not JSON (${(error as Error).message}): one job a line, e.g. {"id": "1", "question": "What happens?", "videos": ["clip.mp4"]}.`,
        {
          file,
          field: `line ${index + 1}`,
          expected: 'one JSON object a line',
          actual: line.length > 80 ? `${line.slice(0, 80)}...` : line,
          cause: error,
        },
      );
    }
    const job = parseBatchJob(value, where);
    const earlier = lines.get(job.id);
    if (earlier !== undefined) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `${where}: id ${JSON.stringify(job.id)} is also the id of line ${earlier}; every job needs its own id.`,
        {
          file,
          field: 'id',
          expected: 'a unique id',
          actual: job.id,
        },
      );
    }
    lines.set(job.id, index + 1);
    jobs.push(job);
  });
  return jobs;
}

/** The conversation format around a question, as `video-llava generate --question` builds it: images, videos, text. */
function questionMessages(question: string, images: number, videos: number): ChatMessage[] {
  return [
    {
      role: 'user',
      content: [
        ...Array.from({ length: images }, () => ({ type: 'image' as const })),
        ...Array.from({ length: videos }, () => ({ type: 'video' as const })),
        { type: 'text' as const, text: question },
      ],
    },
  ];
}

/**
 * The `VideoLlava.generate` request of a job, without its media (the worker resolves those): what the worker asks,
 * and what an application asks to get the same answer in-process.
 */
export function requestOfJob(job: BatchJob): Omit<VideoLlavaRequest, 'videos' | 'images'> {
  const { id: _id, question, prompt, messages, videos, images, ...options } = job;
  const text =
    question !== undefined
      ? { messages: questionMessages(question, images?.length ?? 0, videos?.length ?? 0) }
      : prompt !== undefined
        ? { prompt }
        : { messages: messages! };
  return { ...text, ...options };
}

/**
 * What the media of a job are, as a key: jobs with the same key are about the same videos and images, and a worker
 * that answers them one after the other reuses the encoded prefix.
 */
export function mediaKeyOfJob(job: BatchJob): string {
  return JSON.stringify([job.videos ?? [], job.images ?? []]);
}

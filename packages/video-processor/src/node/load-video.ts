import { availableParallelism } from 'node:os';
import { Tensor, VideoLlavaError, type VideoLlavaWarning, type WarningCallback } from '@video-llava/core';
import type { FrameSelection, LoadedVideo } from '../loaded-video.js';
import { arrangeFrames, pickFrameIndices } from '../pick-frame-indices.js';
import { explainFfmpegFailure, findDamage, lastErrorLine, parseOutputSize } from './ffmpeg-log.js';
import { resolveFfmpegPath } from './ffmpeg-path.js';
import { type FfmpegOptions, type VideoProbe, decodeAllFrames, probeVideoStream } from './probe-video.js';
import { type SeekPlan, planSeeks, seekableFrameTimes } from './seek-plan.js';
import { runFfmpeg } from './run-ffmpeg.js';

/** Options of {@link loadVideo}: which frames, how to count them, and the FFmpeg to use. */
export interface LoadVideoOptions extends FfmpegOptions, FrameSelection {
  /**
   * How to count the frames: `'stream'` counts the stream's packets (demuxing only, milliseconds), and if the
   * decoder then yields fewer frames than that, the real count is taken by decoding and the sampling is redone;
   * `'decode'` always decodes the whole stream once to count (exact for every codec, slower on long videos).
   * @default 'stream'
   */
  frameCount?: 'stream' | 'decode';
  /**
   * Whether to seek: for H.264, HEVC, VP9 and AV1 streams whose key frames are clean starts (no open GOP), decode
   * each wanted frame from the key frame before it instead of decoding the video from its start up to the last
   * wanted frame. The frames are the same (chosen by their presentation time, checked, and decoded again from the
   * start if a run comes back short); only the time differs, by a lot on long videos with frequent key frames.
   * @default true
   */
  seek?: boolean;
  /**
   * Receives what the caller should know about the frames as it happens (also listed in the result's
   * `warnings`): `FRAMES_REPEATED` when the video has fewer frames than `numFrames` (frames repeat, as the model
   * card's sampling does), `MEDIA_DAMAGED` when part of the file could not be read or decoded.
   */
  onWarning?: WarningCallback;
  /**
   * What to do with a damaged file (a truncated file whose index survived, corrupt packets, frames decoded with
   * errors): `'warn'` samples what could be read and reports a `MEDIA_DAMAGED` warning saying what was lost;
   * `'error'` refuses it with `DECODE_FAILED`.
   * @default 'warn'
   */
  damagedMedia?: 'warn' | 'error';
}

/** Largest frame buffer we allocate: beyond it, ask for fewer frames. */
const MAX_BUFFER_BYTES = 2 ** 32 - 1;

/** A select filter expression that passes exactly the frames with these decoded indices. */
function selectExpression(indices: readonly number[]): string {
  return `select='${indices.map((index) => `eq(n\\,${index})`).join('+')}'`;
}

/** A select filter expression that passes exactly the frames shown at these times (seconds, within `tolerance`). */
function selectTimesExpression(times: readonly number[], tolerance: number): string {
  return `select='${times.map((time) => `lt(abs(pts*TB-${time.toFixed(9)})\\,${tolerance.toExponential(6)})`).join('+')}'`;
}

/** Checks that the frames fit in one buffer, and allocates it. */
function allocateFrames(file: string, count: number, width: number, height: number): Uint8Array {
  const frameBytes = width * height * 3;
  const totalBytes = frameBytes * count;
  if (totalBytes > MAX_BUFFER_BYTES) {
    throw new VideoLlavaError(
      'OUT_OF_MEMORY',
      `${file}: ${count} frames of ${width}x${height} need ${totalBytes} bytes; ask for fewer frames.`,
      {
        file,
        field: 'numFrames',
        expected: `<= ${Math.floor(MAX_BUFFER_BYTES / frameBytes)} frames`,
        actual: count,
      },
    );
  }
  return new Uint8Array(totalBytes);
}

interface FfmpegFrameRun {
  binary: string;
  file: string;
  /** Options before `-i` (seeking). */
  inputOptions: string[];
  /** The `select` filter. */
  filter: string;
  /** Frames to take. */
  count: number;
  width: number;
  height: number;
  signal: AbortSignal | undefined;
  /** Where the frames go, from `offset` (bytes) on. */
  into: Uint8Array;
  offset: number;
}

/**
 * Runs FFmpeg to decode the frames its `select` filter passes, writing them as RGB into `into`, and stopping after
 * `count` frames: nothing after the last wanted frame is decoded, and memory is the output alone.
 * @returns the frames that arrived (fewer than `count` when the stream ended early)
 */
async function decodeFrames(run: FfmpegFrameRun): Promise<{ count: number; damage: string | undefined }> {
  const { binary, file, width, height, count, into, offset } = run;
  const frameBytes = width * height * 3;
  const end = offset + frameBytes * count;
  let received = 0;
  const args = [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    ...run.inputOptions,
    '-i',
    file,
    '-map',
    '0:v:0',
    '-vf',
    run.filter,
    '-vsync',
    '0',
    '-frames:v',
    String(count),
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ];
  const { code, log } = await runFfmpeg(binary, args, {
    file,
    signal: run.signal,
    onStdout: (chunk) => {
      if (offset + received + chunk.length > end) {
        throw new VideoLlavaError(
          'DECODE_FAILED',
          `${file}: FFmpeg produced more than the ${count} frames of ${width}x${height} asked for.`,
          {
            file,
            expected: frameBytes * count,
            actual: received + chunk.length,
          },
        );
      }
      into.set(chunk, offset + received);
      received += chunk.length;
    },
  });
  if (code !== 0) {
    throw new VideoLlavaError('DECODE_FAILED', `${file} could not be decoded: ${explainFfmpegFailure(log)}.`, {
      file,
      expected: 'a decodable video stream',
      actual: lastErrorLine(log),
    });
  }
  const size = parseOutputSize(log);
  if (size !== undefined && (size.width !== width || size.height !== height)) {
    throw new VideoLlavaError(
      'DECODE_FAILED',
      `${file}: FFmpeg decoded ${size.width}x${size.height} frames, the stream said ${width}x${height}.`,
      {
        file,
        expected: `${width}x${height}`,
        actual: `${size.width}x${size.height}`,
      },
    );
  }
  if (received % frameBytes !== 0) {
    throw new VideoLlavaError(
      'DECODE_FAILED',
      `${file}: FFmpeg's output stopped inside a frame (${received} bytes for ${width}x${height} RGB frames).`,
      {
        file,
        expected: `a multiple of ${frameBytes} bytes`,
        actual: received,
      },
    );
  }
  return { count: received / frameBytes, damage: findDamage(log) };
}

/**
 * FFmpeg runs of a seek plan at a time: each run is short, so one run leaves cores idle (start-up, the first frames
 * of a GOP); measured on 2 cores, two at a time took 0.7 to 0.95 of the time of one at a time.
 */
function seekConcurrency(segments: number): number {
  return Math.max(1, Math.min(segments, Math.max(2, Math.ceil(availableParallelism() / 2))));
}

/**
 * Decodes the frames of a seek plan, a few runs at a time, each into its own part of `into`. Returns false when a run
 * gave fewer frames than planned (the seek landed after a wanted frame, or a time did not name a frame): the other
 * runs are stopped, and the caller decodes from the start.
 */
async function decodeWithSeeks(
  plan: SeekPlan,
  run: Omit<FfmpegFrameRun, 'inputOptions' | 'filter' | 'count' | 'offset'>,
  onDamage: (line: string) => void,
): Promise<boolean> {
  const frameBytes = run.width * run.height * 3;
  const jobs: Array<Omit<FfmpegFrameRun, keyof typeof run>> = [];
  let offset = 0;
  for (const segment of plan.segments) {
    const inputOptions = [
      '-copyts',
      ...(segment.seekSeconds === undefined ? [] : ['-noaccurate_seek', '-ss', segment.seekSeconds.toFixed(6)]),
    ];
    jobs.push({
      inputOptions,
      filter: selectTimesExpression(segment.times, plan.tolerance),
      count: segment.times.length,
      offset,
    });
    offset += segment.times.length * frameBytes;
  }
  // One controller for the runs: the caller's signal stops them all, and so does a run that comes back short.
  const stop = new AbortController();
  const forward = (): void => stop.abort(run.signal?.reason);
  if (run.signal?.aborted) forward();
  run.signal?.addEventListener('abort', forward, { once: true });
  let short = false;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length && !short && !stop.signal.aborted) {
      const job = jobs[next++]!;
      const { count, damage } = await decodeFrames({ ...run, ...job, signal: stop.signal });
      if (damage !== undefined) onDamage(damage);
      if (count !== job.count) {
        short = true;
        stop.abort();
      }
    }
  };
  try {
    const results = await Promise.allSettled(Array.from({ length: seekConcurrency(jobs.length) }, worker));
    if (run.signal?.aborted)
      throw new VideoLlavaError('ABORTED', `Decoding ${run.file} was aborted.`, {
        file: run.file,
        cause: run.signal.reason,
      });
    for (const result of results) {
      // runs stopped because another came back short end as ABORTED: that is the short run's doing, not an error
      if (
        result.status === 'rejected' &&
        !(short && VideoLlavaError.isInstance(result.reason) && result.reason.code === 'ABORTED')
      )
        throw result.reason;
    }
    return !short;
  } finally {
    run.signal?.removeEventListener('abort', forward);
  }
}

/**
 * Decodes the frames Video-LLaVA needs from a video file with FFmpeg: counts the frames (demuxing only), picks the
 * indices (8 uniformly spread by default), and decodes only up to the last of them, keeping only the picked frames
 * (memory is bounded by the output, whatever the video's length). Frames are selected by their decoded index
 * (`select=eq(n,i)`, no frame-rate conversion), so they are exactly those frames, converted to RGB by FFmpeg's
 * default YUV→RGB conversion (the same as OpenCV's FFmpeg backend). Where the stream allows it (see
 * {@link LoadVideoOptions.seek}), runs of wanted frames are decoded from the key frame before them instead of from
 * the start, and picked by their presentation time: the same frames, with less decoding.
 *
 * @param file a video in any container and codec FFmpeg reads
 * @param options which frames (`numFrames`, `indices` or `fps`), the FFmpeg binary, an abort signal
 * @returns the frames `[frames, height, width, 3]` with their indices, the frame count, the frame rate and size
 * A video shorter than `numFrames` is sampled with repeated frames (`floor(i * total / numFrames)`, the model
 * card's `np.arange` rule) and a `FRAMES_REPEATED` warning; a damaged file (FFmpeg reports a short read, corrupt
 * packets or decoding errors) is sampled from what can be read with a `MEDIA_DAMAGED` warning saying what was
 * lost, or refused with `damagedMedia: 'error'`. Warnings go to `onWarning` and the result's `warnings`.
 *
 * @throws VideoLlavaError naming the file: `FILE_NOT_FOUND`; `INVALID_FILE` (empty, not a video, no video
 *   stream); `INVALID_ARGUMENT` when an index is out of range or `fps` asks for more frames than the video has;
 *   `DECODE_FAILED` (also for damaged media with `damagedMedia: 'error'`);
 *   `OUT_OF_MEMORY` for requests too large to hold; `UNSUPPORTED` when no FFmpeg is available; `ABORTED`
 */
export async function loadVideo(file: string, options: LoadVideoOptions = {}): Promise<LoadedVideo> {
  const seek = options.seek ?? true;
  const { probe, packets, startSeconds } = await probeVideoStream(
    file,
    options,
    seek && options.frameCount !== 'decode',
  );
  const binary = await resolveFfmpegPath(options.ffmpegPath);
  const warnings: VideoLlavaWarning[] = [];
  const warn = (warning: VideoLlavaWarning): void => {
    warnings.push(warning);
    options.onWarning?.(warning);
  };
  // One MEDIA_DAMAGED warning per file: the first finding says the most (what could be read at all).
  let damageReported = false;
  const damaged = (message: string, expected: unknown, actual: unknown): void => {
    if (damageReported) return;
    damageReported = true;
    if (options.damagedMedia === 'error')
      throw new VideoLlavaError('DECODE_FAILED', `${message} Refused (damagedMedia: 'error').`, {
        file,
        expected,
        actual,
      });
    warn({ code: 'MEDIA_DAMAGED', message, file, expected, actual });
  };
  if (probe.damage !== undefined)
    damaged(
      lostFramesMessage(file, probe, probe.totalFrames, probe.damage),
      declaredFrames(probe) ?? 'the whole stream',
      probe.totalFrames,
    );
  // For the codecs seeking is planned for, the packet list tells the shown frames exactly (an edit list's hidden
  // frames left out) without decoding anything.
  const shown = packets ? seekableFrameTimes(packets, probe.codec) : undefined;
  let total: number;
  if (options.frameCount === 'decode') {
    const counted = await decodeAllFrames(file, options);
    if (counted.damage !== undefined)
      damaged(lostFramesMessage(file, probe, counted.frames, counted.damage), probe.totalFrames, counted.frames);
    total = counted.frames;
  } else {
    total = shown?.length ?? probe.totalFrames;
  }
  const frameBytes = probe.width * probe.height * 3;
  const run = { binary, file, width: probe.width, height: probe.height, signal: options.signal };

  for (let attempt = 0; ; attempt++) {
    if (total === 0) {
      throw new VideoLlavaError(
        'DECODE_FAILED',
        `${file}: not one frame of its video stream decodes (the file is damaged).`,
        { file, expected: 'at least one decodable frame', actual: 0 },
      );
    }
    const indices = pickFrameIndices(file, total, probe.fps, options, attempt === 0 ? warn : undefined);
    const sorted = [...new Set(indices)].sort((a, b) => a - b);
    const data = allocateFrames(file, sorted.length, probe.width, probe.height);
    const plan =
      attempt === 0 && shown !== undefined && packets ? planSeeks(packets, shown, startSeconds, sorted) : undefined;
    let count = sorted.length;
    let decodeDamage: string | undefined;
    if (
      plan === undefined ||
      !(await decodeWithSeeks(plan, { ...run, into: data }, (line) => (decodeDamage ??= line)))
    ) {
      const decoded = await decodeFrames({
        ...run,
        inputOptions: [],
        filter: selectExpression(sorted),
        count: sorted.length,
        into: data,
        offset: 0,
      });
      count = decoded.count;
      decodeDamage = decoded.damage;
    }
    if (count < sorted.length) {
      // The stream has fewer decodable frames than packets: count what decodes and sample again. Codecs with
      // packets that show no frame do this on whole files; a damaged file says so in FFmpeg's log.
      const counted = await decodeAllFrames(file, options);
      if (attempt > 0 || counted.frames >= total) {
        throw new VideoLlavaError(
          'DECODE_FAILED',
          `${file}: frame ${sorted[count]} could not be decoded (the stream counts ${total} frames, the decoder gave ${counted.frames}).`,
          { file, expected: sorted.length, actual: count },
        );
      }
      if (counted.damage !== undefined) {
        damaged(
          `${file} is damaged (${counted.damage}): only ${counted.frames} of its ${total} frames decode; the frames are sampled from those ${counted.frames}, the rest is lost.`,
          total,
          counted.frames,
        );
      }
      total = counted.frames;
      continue;
    }
    if (decodeDamage !== undefined) {
      damaged(
        `${file} is damaged: some of the sampled frames (indices ${sorted.join(', ')}) decoded with errors (${decodeDamage}) and may show concealment artefacts.`,
        'clean frames',
        decodeDamage,
      );
    }
    const frames = arrangeFrames(data, sorted, indices, frameBytes);
    return {
      file,
      frames: new Tensor('uint8', frames, [indices.length, probe.height, probe.width, 3]),
      indices,
      totalFrames: total,
      fps: probe.fps,
      width: probe.width,
      height: probe.height,
      warnings,
    };
  }
}

/** Frames the container declares (its duration times the frame rate), when it declares both. */
function declaredFrames(probe: VideoProbe): number | undefined {
  return probe.declaredSeconds !== undefined && probe.fps !== undefined
    ? Math.round(probe.declaredSeconds * probe.fps)
    : undefined;
}

function lostFramesMessage(file: string, probe: VideoProbe, readable: number, damage: string): string {
  const declared = declaredFrames(probe);
  const seconds = (frames: number): string =>
    probe.fps === undefined ? '' : ` (${(frames / probe.fps).toFixed(2)} s)`;
  const claim =
    declared !== undefined && probe.declaredSeconds !== undefined
      ? `only ${readable} frames${seconds(readable)} of the about ${declared} frames (${probe.declaredSeconds.toFixed(2)} s) it declares could be read`
      : `only ${readable} frames${seconds(readable)} could be read`;
  return `${file} is damaged or truncated (${damage}): ${claim}; the frames are sampled from what could be read, the rest is lost.`;
}

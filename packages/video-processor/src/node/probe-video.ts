import { stat } from 'node:fs/promises';
import { VideoLlavaError } from '@video-llava/core';
import {
  explainFfmpegFailure,
  findDamage,
  lastErrorLine,
  parseDeclaredDuration,
  parseFrameCount,
  parseVideoStream,
} from './ffmpeg-log.js';
import { resolveFfmpegPath } from './ffmpeg-path.js';
import { type PacketList, parsePacketList } from './packet-list.js';
import { runFfmpeg } from './run-ffmpeg.js';

/** Options shared by {@link probeVideo} and `loadVideo`. */
export interface FfmpegOptions {
  /**
   * The FFmpeg binary.
   * @default the `VIDEO_LLAVA_FFMPEG_PATH` environment variable, else the static build of `@ffmpeg-installer/ffmpeg`
   */
  ffmpegPath?: string;
  /** Stops FFmpeg and rejects with `ABORTED`. */
  signal?: AbortSignal;
}

/** What {@link probeVideo} learns about a video file without decoding it. */
export interface VideoProbe {
  /** The file. */
  file: string;
  /** Frames in the first video stream (its packets, counted by demuxing only). */
  totalFrames: number;
  /** Frame rate, when the container gives one. */
  fps: number | undefined;
  /** Size of the decoded frames, after the stream's rotation. */
  width: number;
  height: number;
  /** Codec of the video stream, e.g. `h264`. */
  codec: string;
  /** Rotation applied to the frames (0, 90, 180, 270). */
  rotation: number;
  /** The duration the container declares, in seconds, when it declares one. */
  declaredSeconds: number | undefined;
  /**
   * FFmpeg's first line saying the file is damaged (a short read, a corrupt packet) while it was demuxed, when
   * it said so: then {@link totalFrames} counts only the frames that could be read.
   */
  damage: string | undefined;
}

/**
 * Checks that `file` exists and is a non-empty regular file.
 * @throws VideoLlavaError `FILE_NOT_FOUND` or `INVALID_FILE`, naming the file
 */
export async function checkVideoFile(file: string): Promise<void> {
  let info;
  try {
    info = await stat(file);
  } catch (cause) {
    throw new VideoLlavaError('FILE_NOT_FOUND', `Video file not found: ${file}.`, {
      file,
      expected: 'an existing video file',
      actual: 'no such file',
      cause,
    });
  }
  if (!info.isFile()) {
    throw new VideoLlavaError('INVALID_FILE', `${file} is not a regular file (a directory?); expected a video file.`, {
      file,
      expected: 'a video file',
      actual: 'not a file',
    });
  }
  if (info.size === 0) {
    throw new VideoLlavaError('INVALID_FILE', `${file} is empty (0 bytes); expected a video file.`, {
      file,
      expected: 'a non-empty video file',
      actual: '0 bytes',
    });
  }
}

/**
 * Reads a video's first video stream: its frame count (by demuxing with `-c copy`, which decodes nothing and
 * takes milliseconds), frame rate, size and codec.
 *
 * @param file path of a video in any container and codec FFmpeg reads
 * @throws VideoLlavaError naming the file: `FILE_NOT_FOUND`; `INVALID_FILE` when it is empty, not a video FFmpeg
 *   can read, or has no video stream (e.g. audio only) or no frames
 */
export async function probeVideo(file: string, options: FfmpegOptions = {}): Promise<VideoProbe> {
  return (await probeVideoStream(file, options, false)).probe;
}

/** What `loadVideo` needs from the probe: the {@link VideoProbe}, the packets, the file's start time. */
export interface VideoStreamProbe {
  probe: VideoProbe;
  /** The video stream's packets, when asked for and FFmpeg listed them. */
  packets: PacketList | undefined;
  /** The file's start time in seconds (what FFmpeg's `-ss` counts from). */
  startSeconds: number;
}

/**
 * {@link probeVideo}, and with `withPackets` the stream's packet list (timestamps and key flags, from the same
 * demuxing pass: `-f framecrc` instead of `-f null`).
 */
export async function probeVideoStream(
  file: string,
  options: FfmpegOptions,
  withPackets: boolean,
): Promise<VideoStreamProbe> {
  await checkVideoFile(file);
  const binary = await resolveFfmpegPath(options.ffmpegPath);
  const chunks: Buffer[] = [];
  const output = withPackets ? ['-copyts', '-f', 'framecrc', 'pipe:1'] : ['-f', 'null', '-'];
  const { code, log } = await runFfmpeg(
    binary,
    ['-hide_banner', '-nostdin', '-nostats', '-i', file, '-map', '0:v:0', '-c', 'copy', ...output],
    {
      file,
      signal: options.signal,
      ...(withPackets ? { onStdout: (chunk: Buffer) => chunks.push(chunk) } : {}),
    },
  );
  const stream = parseVideoStream(log);
  if (!/^Input #0/m.test(log)) {
    // FFmpeg could not even open it as a container
    throw new VideoLlavaError('INVALID_FILE', `${file} is not a video FFmpeg can read: ${explainFfmpegFailure(log)}.`, {
      file,
      expected: 'a video file (any container and codec FFmpeg reads)',
      actual: lastErrorLine(log),
    });
  }
  if (stream === undefined) {
    const found = [...log.matchAll(/Stream #0:\d+.*?: (Audio|Subtitle|Data|Attachment):/g)].map((match) =>
      match[1]!.toLowerCase(),
    );
    const actual = found.length > 0 ? `only ${[...new Set(found)].join(' and ')} streams` : 'no streams';
    throw new VideoLlavaError('INVALID_FILE', `${file} has no video stream (${actual}).`, {
      file,
      field: 'video stream',
      expected: 'a file with a video stream',
      actual,
    });
  }
  if (code !== 0) {
    throw new VideoLlavaError(
      'INVALID_FILE',
      `The video stream of ${file} could not be read: ${explainFfmpegFailure(log)}.`,
      {
        file,
        field: 'video stream',
        expected: 'a readable video stream',
        actual: lastErrorLine(log),
      },
    );
  }
  const totalFrames = parseFrameCount(log) ?? 0;
  if (totalFrames === 0 || stream.width === 0 || stream.height === 0) {
    throw new VideoLlavaError(
      'INVALID_FILE',
      `The video stream of ${file} has no frames (${stream.width}x${stream.height}, ${totalFrames} frames).`,
      {
        file,
        field: 'video stream',
        expected: 'at least one frame',
        actual: totalFrames,
      },
    );
  }
  const swap = stream.rotation === 90 || stream.rotation === 270;
  const probe: VideoProbe = {
    file,
    totalFrames,
    fps: stream.fps,
    width: swap ? stream.height : stream.width,
    height: swap ? stream.width : stream.height,
    codec: stream.codec,
    rotation: stream.rotation,
    declaredSeconds: parseDeclaredDuration(log),
    damage: findDamage(log),
  };
  const start = Number(/^\s*Duration: .*?, start: (-?[\d.]+)/m.exec(log)?.[1] ?? 0);
  return {
    probe,
    packets: withPackets ? parsePacketList(Buffer.concat(chunks).toString('latin1')) : undefined,
    startSeconds: Number.isFinite(start) ? start : 0,
  };
}

/**
 * Counts the frames a decoder actually produces for the first video stream (decodes it all, keeping nothing:
 * memory stays flat). Slower than {@link probeVideo}'s packet count, but exact for every codec.
 */
export async function countDecodedFrames(file: string, options: FfmpegOptions = {}): Promise<number> {
  return (await decodeAllFrames(file, options)).frames;
}

/** {@link countDecodedFrames}, with FFmpeg's first line saying the stream is damaged, when it said so. @internal */
export async function decodeAllFrames(
  file: string,
  options: FfmpegOptions = {},
): Promise<{ frames: number; damage: string | undefined }> {
  const binary = await resolveFfmpegPath(options.ffmpegPath);
  const { code, log } = await runFfmpeg(
    binary,
    ['-hide_banner', '-nostdin', '-nostats', '-i', file, '-map', '0:v:0', '-vsync', '0', '-f', 'null', '-'],
    {
      file,
      signal: options.signal,
    },
  );
  if (code !== 0) {
    throw new VideoLlavaError('DECODE_FAILED', `${file} could not be decoded: ${explainFfmpegFailure(log)}.`, {
      file,
      expected: 'a decodable video stream',
      actual: lastErrorLine(log),
    });
  }
  return { frames: parseFrameCount(log) ?? 0, damage: findDamage(log) };
}

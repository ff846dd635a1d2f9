import { Tensor, VideoLlavaError } from '@video-llava/core';
import type { FrameSelection, LoadedVideo } from '../loaded-video.js';
import { arrangeFrames, pickFrameIndices } from '../pick-frame-indices.js';
import { lastErrorLine, parseOutputSize } from './ffmpeg-log.js';
import { resolveFfmpegPath } from './ffmpeg-path.js';
import { type FfmpegOptions, type VideoProbe, countDecodedFrames, probeVideo } from './probe-video.js';
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
}

/** Largest frame buffer we allocate: beyond it, ask for fewer frames. */
const MAX_BUFFER_BYTES = 2 ** 32 - 1;

/** A select filter expression that passes exactly the frames with these decoded indices. */
function selectExpression(indices: readonly number[]): string {
  return `select='${indices.map((index) => `eq(n\\,${index})`).join('+')}'`;
}

interface DecodedFrames {
  data: Uint8Array;
  /** Frames that arrived (fewer than asked when the stream ended early). */
  count: number;
}

/** Decodes the frames with these ascending unique indices, keeping only them: memory is the output alone. */
async function decodeSelectedFrames(binary: string, file: string, sorted: readonly number[], width: number, height: number, signal: AbortSignal | undefined): Promise<DecodedFrames> {
  const frameBytes = width * height * 3;
  const totalBytes = frameBytes * sorted.length;
  if (totalBytes > MAX_BUFFER_BYTES) {
    throw new VideoLlavaError('OUT_OF_MEMORY', `${file}: ${sorted.length} frames of ${width}x${height} need ${totalBytes} bytes; ask for fewer frames.`, {
      file,
      field: 'numFrames',
      expected: `<= ${Math.floor(MAX_BUFFER_BYTES / frameBytes)} frames`,
      actual: sorted.length,
    });
  }
  const data = new Uint8Array(totalBytes);
  let received = 0;
  const args = [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-i',
    file,
    '-map',
    '0:v:0',
    '-vf',
    selectExpression(sorted),
    '-vsync',
    '0',
    // stop as soon as the last wanted frame is out: nothing after it is decoded
    '-frames:v',
    String(sorted.length),
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ];
  const { code, log } = await runFfmpeg(binary, args, {
    file,
    signal,
    onStdout: (chunk) => {
      if (received + chunk.length > totalBytes) {
        throw new VideoLlavaError('DECODE_FAILED', `${file}: FFmpeg produced more than the ${sorted.length} frames of ${width}x${height} asked for.`, {
          file,
          expected: totalBytes,
          actual: received + chunk.length,
        });
      }
      data.set(chunk, received);
      received += chunk.length;
    },
  });
  if (code !== 0) {
    throw new VideoLlavaError('DECODE_FAILED', `FFmpeg failed to decode ${file}: ${lastErrorLine(log)}`, { file, actual: lastErrorLine(log) });
  }
  const size = parseOutputSize(log);
  if (size !== undefined && (size.width !== width || size.height !== height)) {
    throw new VideoLlavaError('DECODE_FAILED', `${file}: FFmpeg decoded ${size.width}x${size.height} frames, the stream said ${width}x${height}.`, {
      file,
      expected: `${width}x${height}`,
      actual: `${size.width}x${size.height}`,
    });
  }
  if (received % frameBytes !== 0) {
    throw new VideoLlavaError('DECODE_FAILED', `${file}: FFmpeg's output stopped inside a frame (${received} bytes for ${width}x${height} RGB frames).`, {
      file,
      expected: `a multiple of ${frameBytes} bytes`,
      actual: received,
    });
  }
  return { data, count: received / frameBytes };
}

/**
 * Decodes the frames Video-LLaVA needs from a video file with FFmpeg: counts the frames, picks the indices
 * (8 uniformly spread by default), and decodes only up to the last of them, keeping only the picked frames
 * (memory is bounded by the output, whatever the video's length). Frames are selected by their decoded index
 * (`select=eq(n,i)`, no frame-rate conversion), so they are exactly those frames, converted to RGB by FFmpeg's
 * default YUV→RGB conversion (the same as OpenCV's FFmpeg backend).
 *
 * @param file a video in any container and codec FFmpeg reads
 * @param options which frames (`numFrames`, `indices` or `fps`), the FFmpeg binary, an abort signal
 * @returns the frames `[frames, height, width, 3]` with their indices, the frame count, the frame rate and size
 * @throws VideoLlavaError naming the file: `FILE_NOT_FOUND`; `INVALID_FILE` (empty, not a video, no video
 *   stream); `INVALID_ARGUMENT` when the video has fewer frames than asked (as the reference's sampler, which
 *   refuses: pass `indices` to repeat frames instead) or an index is out of range; `DECODE_FAILED`;
 *   `OUT_OF_MEMORY` for requests too large to hold; `UNSUPPORTED` when no FFmpeg is available; `ABORTED`
 */
export async function loadVideo(file: string, options: LoadVideoOptions = {}): Promise<LoadedVideo> {
  const probe = await probeVideo(file, options);
  const binary = await resolveFfmpegPath(options.ffmpegPath);
  let total = options.frameCount === 'decode' ? await countDecodedFrames(file, options) : probe.totalFrames;

  for (let attempt = 0; ; attempt++) {
    const indices = pickFrameIndices(file, total, probe.fps, options);
    const sorted = [...new Set(indices)].sort((a, b) => a - b);
    const decoded = await decodeSelectedFrames(binary, file, sorted, probe.width, probe.height, options.signal);
    if (decoded.count < sorted.length) {
      // The stream has fewer decodable frames than packets: count what decodes and sample again.
      const decodedTotal = await countDecodedFrames(file, options);
      if (attempt > 0 || decodedTotal >= total) {
        throw new VideoLlavaError(
          'DECODE_FAILED',
          `${file}: frame ${sorted[decoded.count]} could not be decoded (the stream counts ${probe.totalFrames} frames, the decoder gave ${decodedTotal}).`,
          { file, expected: sorted.length, actual: decoded.count },
        );
      }
      total = decodedTotal;
      continue;
    }
    const frames = arrangeFrames(decoded.data, sorted, indices, probe.width * probe.height * 3);
    return {
      file,
      frames: new Tensor('uint8', frames, [indices.length, probe.height, probe.width, 3]),
      indices,
      totalFrames: total,
      fps: probe.fps,
      width: probe.width,
      height: probe.height,
    };
  }
}

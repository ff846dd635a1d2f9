import { Tensor, VideoLlavaError, describeValue } from '@video-llava/core';
import { sampleFrameIndices, sampleFrameIndicesAtFps } from '../sample-frame-indices.js';
import { lastErrorLine, parseOutputSize } from './ffmpeg-log.js';
import { resolveFfmpegPath } from './ffmpeg-path.js';
import { type FfmpegOptions, type VideoProbe, countDecodedFrames, probeVideo } from './probe-video.js';
import { runFfmpeg } from './run-ffmpeg.js';

/** Options of {@link loadVideo}. Give at most one of `numFrames`, `indices` and `fps`. */
export interface LoadVideoOptions extends FfmpegOptions {
  /**
   * Frames to pick with the uniform rule `floor(i * total / numFrames)` (see `sampleFrameIndices`). Pass the
   * processor config's `numFrames` for checkpoints that use another count.
   * @default 8 (Video-LLaVA's `num_frames`)
   */
  numFrames?: number;
  /** Exact frame indices (decoded order, from 0) to return, in this order; repeats are allowed. */
  indices?: readonly number[];
  /** Frames per second of video to pick (transformers' `fps` sampling), instead of a fixed count. */
  fps?: number;
  /**
   * How to count the frames: `'stream'` counts the stream's packets (demuxing only, milliseconds), and if the
   * decoder then yields fewer frames than that, the real count is taken by decoding and the sampling is redone;
   * `'decode'` always decodes the whole stream once to count (exact for every codec, slower on long videos).
   * @default 'stream'
   */
  frameCount?: 'stream' | 'decode';
}

/** A decoded, sampled video. Give it to `VideoLlavaVideoProcessor.preprocess` as it is. */
export interface LoadedVideo {
  /** The file it came from. */
  file: string;
  /** uint8 RGB frames `[frames, height, width, 3]`, in the order of {@link indices}. */
  frames: Tensor<'uint8'>;
  /** The decoded-order index of each returned frame. */
  indices: number[];
  /** Frames in the video (checked against what the decoder produced). */
  totalFrames: number;
  /** Frame rate of the video, when the container gives one. */
  fps: number | undefined;
  /** Frame width (after the stream's rotation). */
  width: number;
  /** Frame height (after the stream's rotation). */
  height: number;
}

/** Largest frame buffer we allocate: beyond it, ask for fewer frames. */
const MAX_BUFFER_BYTES = 2 ** 32 - 1;

function pickIndices(file: string, total: number, probe: VideoProbe, options: LoadVideoOptions): number[] {
  const given = (['numFrames', 'indices', 'fps'] as const).filter((name) => options[name] !== undefined);
  if (given.length > 1) {
    throw new VideoLlavaError('INVALID_ARGUMENT', `loadVideo(${file}): ${given.join(' and ')} are mutually exclusive; give one.`, {
      file,
      field: given[1],
      expected: 'one of numFrames, indices, fps',
      actual: given,
    });
  }
  try {
    if (options.indices !== undefined) {
      if (options.indices.length === 0) throw new VideoLlavaError('INVALID_ARGUMENT', 'indices is empty.', { field: 'indices', expected: 'at least one index', actual: [] });
      options.indices.forEach((index, position) => {
        if (!Number.isSafeInteger(index) || index < 0 || index >= total) {
          throw new VideoLlavaError('INVALID_ARGUMENT', `indices[${position}] = ${describeValue(index)} is not a frame of a ${total}-frame video.`, {
            field: `indices[${position}]`,
            expected: `an integer in [0, ${total - 1}]`,
            actual: index,
          });
        }
      });
      return [...options.indices];
    }
    if (options.fps !== undefined) {
      if (probe.fps === undefined) {
        throw new VideoLlavaError('INVALID_ARGUMENT', 'the container gives no frame rate, which fps sampling needs; use numFrames.', {
          field: 'fps',
          expected: 'a video with a frame rate',
          actual: undefined,
        });
      }
      return sampleFrameIndicesAtFps(total, probe.fps, options.fps);
    }
    return sampleFrameIndices(total, options.numFrames ?? 8);
  } catch (error) {
    if (!VideoLlavaError.isInstance(error)) throw error;
    // name the file: "video.mp4: Cannot sample 8 frames from a video of 5 frames ..."
    throw new VideoLlavaError(error.code, `${file}: ${error.message}`, {
      file,
      field: error.field,
      expected: error.expected,
      actual: error.actual,
      cause: error,
    });
  }
}

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
    const indices = pickIndices(file, total, probe, options);
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
    const frameBytes = probe.width * probe.height * 3;
    let frames = decoded.data;
    if (sorted.length !== indices.length || sorted.some((index, position) => index !== indices[position])) {
      // the caller's order, with repeats
      frames = new Uint8Array(frameBytes * indices.length);
      indices.forEach((index, position) => {
        const from = sorted.indexOf(index) * frameBytes;
        frames.set(decoded.data.subarray(from, from + frameBytes), position * frameBytes);
      });
    }
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

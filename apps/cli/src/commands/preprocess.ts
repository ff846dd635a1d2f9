import { mkdir, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { dirname, resolve } from 'node:path';
import { loadPretrainedConfig, resolveSource } from '@video-llava/config/node';
import { type Tensor, VideoLlavaError, bytesPerElement, elementCount } from '@video-llava/core';
import { VideoLlavaImageProcessor } from '@video-llava/image-processor';
import { loadImage } from '@video-llava/image-processor/node';
import { VideoLlavaVideoProcessor } from '@video-llava/video-processor';
import { loadVideo } from '@video-llava/video-processor/node';
import { type CliCommand, UsageError } from '../command.js';
import { defineCommand } from '../define-command.js';
import { checkMediaFiles } from '../media-file-arguments.js';
import { checkModelArgument, modelPositional, sourceFlags, sourceOptionsFromFlags } from '../model-source-arguments.js';
import { jsonFlag, writeResult } from '../write-result.js';

const usage = [
  'video-llava preprocess <model-dir | org/name[@revision] | https://...> (--image FILE | --video FILE [--frames N])',
  '                       --out FILE.npy [--json] [--cache-dir <dir>] [--offline]',
].join('\n');

/** Milliseconds spent in each step of `preprocess`. */
export interface PreprocessTimings {
  /** Reading the checkpoint's configs. */
  config: number;
  /** Decoding the image, or decoding the chosen frames of the video. */
  decode: number;
  /** The image or video processor (resize, crop, rescale, normalize). */
  preprocess: number;
  /** Writing the `.npy` file. */
  write: number;
  /** All of it. */
  total: number;
}

/** What `preprocess --json` prints. */
export interface PreprocessResult {
  /** Which processor ran. */
  kind: 'image' | 'video';
  /** The input file, absolute. */
  input: string;
  /** The `.npy` written, absolute. */
  out: string;
  /** Always `float32`. */
  dtype: 'float32';
  /** `[1, 3, H, W]` (`pixel_values`) or `[1, frames, 3, H, W]` (`pixel_values_videos`). */
  shape: number[];
  /** Size of the decoded image or frames, before the processor. */
  sourceSize: { width: number; height: number };
  /** Video only: the index of each frame taken (presentation order, from 0). */
  frameIndices?: number[];
  /** Video only: frames in the video. */
  totalFrames?: number;
  /** Video only: the video's frame rate, when known. */
  fps?: number | null;
  /** Milliseconds per step. */
  timingsMs: PreprocessTimings;
}

/**
 * A tensor as NumPy `.npy` bytes (format 1.0, C order, little-endian `<f4`), the same bytes `np.save` writes for a
 * float32 array: `np.load` reads them back. Small on purpose, so that the CLI needs no test helper at run time.
 */
export function encodeNpy(tensor: Tensor<'float32'>): Uint8Array {
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  // magic (6) + version (2) + header length (2) + header + '\n', padded to a multiple of 64 as NumPy does
  header += `${' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64)}\n`;
  const headerBytes = new TextEncoder().encode(header);
  const data = tensor.data as Float32Array;
  const out = new Uint8Array(10 + headerBytes.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, headerBytes.length, true);
  out.set(headerBytes, 10);
  const body = out.subarray(10 + headerBytes.length);
  if (endianness() === 'LE') {
    body.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  } else {
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    data.forEach((value, index) => view.setFloat32(index * 4, value, true));
  }
  return out;
}

function parseFrames(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(`--frames should be a positive integer, found ${JSON.stringify(text)}`, usage);
  }
  return value;
}

async function writeNpyFile(path: string, tensor: Tensor<'float32'>): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, encodeNpy(tensor));
  } catch (cause) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `Could not write ${path}: ${cause instanceof Error ? cause.message : String(cause)}.`,
      {
        file: path,
        field: '--out',
        expected: 'a writable file path',
        actual: path,
        cause,
      },
    );
  }
}

function formatText(result: PreprocessResult): string {
  const { timingsMs: t } = result;
  const lines = [
    result.kind === 'image'
      ? `image   ${result.input} (${result.sourceSize.width}x${result.sourceSize.height})`
      : `video   ${result.input} (${result.totalFrames} frames${result.fps ? ` at ${result.fps} fps` : ''}, ${result.sourceSize.width}x${result.sourceSize.height})`,
  ];
  if (result.frameIndices) lines.push(`frames  ${result.frameIndices.join(' ')}`);
  const bytes = elementCount(result.shape) * bytesPerElement(result.dtype);
  lines.push(`wrote   ${result.out}: ${result.dtype} [${result.shape.join(', ')}] (${bytes} bytes of data)`);
  const ms = (value: number): string => `${value.toFixed(1)} ms`;
  lines.push(
    `time    config ${ms(t.config)}, decode ${ms(t.decode)}, preprocess ${ms(t.preprocess)}, write ${ms(t.write)}; total ${ms(t.total)}`,
  );
  return `${lines.join('\n')}\n`;
}

/**
 * `video-llava preprocess`: an image or a video through the checkpoint's image or video processor, written as the
 * float32 `.npy` the model's vision tower takes (`pixel_values` `[1, 3, H, W]` or `pixel_values_videos`
 * `[1, frames, 3, H, W]`), with the frame indices and the time of each step.
 */
export const command: CliCommand = defineCommand({
  name: 'preprocess',
  summary: 'Turn an image or a video into the pixel tensor the model sees (.npy)',
  usage,
  options: {
    image: {
      type: 'string',
      value: 'FILE',
      description: 'an image, through the image processor: pixel_values [1, 3, H, W]',
    },
    video: {
      type: 'string',
      value: 'FILE',
      description: 'a video, through the video processor: pixel_values_videos [1, frames, 3, H, W]',
    },
    frames: {
      type: 'string',
      value: 'N',
      description: "with --video: frames to take, spread evenly (default: the checkpoint's num_frames)",
    },
    out: { type: 'string', value: 'FILE.npy', description: 'where to write the float32 tensor, as NumPy .npy' },
    ...jsonFlag('print the shape, frame indices and timings as JSON instead of text'),
    ...sourceFlags,
  },
  positionals: [modelPositional],
  async run({ values, positionals: [model] }, io) {
    const { image, video, out } = values;
    if (image === undefined && video === undefined) throw new UsageError('give --image FILE or --video FILE', usage);
    if (image !== undefined && video !== undefined) throw new UsageError('give --image or --video, not both', usage);
    if (values.frames !== undefined && video === undefined) throw new UsageError('--frames goes with --video', usage);
    const frames = parseFrames(values.frames);
    if (out === undefined) throw new UsageError('missing --out FILE.npy: where to write the pixel tensor', usage);
    if (!out.endsWith('.npy'))
      throw new UsageError(`--out should name a .npy file, found ${JSON.stringify(out)}`, usage);
    const outPath = resolve(io.cwd, out);
    checkModelArgument(model, io.cwd);
    await checkMediaFiles(
      { videos: video === undefined ? [] : [video], images: image === undefined ? [] : [image] },
      io.cwd,
    );

    const started = performance.now();
    const config = await loadPretrainedConfig(resolveSource(model, sourceOptionsFromFlags(values, io)));
    const configDone = performance.now();

    let result: Omit<PreprocessResult, 'out' | 'timingsMs'>;
    let pixels: Tensor<'float32'>;
    let decodeDone: number;
    if (image !== undefined) {
      const input = resolve(io.cwd, image);
      const raw = await loadImage(input);
      decodeDone = performance.now();
      pixels = new VideoLlavaImageProcessor(config.processor.imageProcessor).preprocess(raw).pixelValues;
      result = {
        kind: 'image',
        input,
        dtype: 'float32',
        shape: [...pixels.dims],
        sourceSize: { width: raw.width, height: raw.height },
      };
    } else {
      const input = resolve(io.cwd, video!);
      const videoConfig = config.processor.videoProcessor;
      const loaded = await loadVideo(input, {
        numFrames: frames ?? videoConfig.numFrames,
        onWarning: (warning) => io.stderr.write(`warning: ${warning.message}\n`),
      });
      decodeDone = performance.now();
      // loadVideo already picked the frames: the processor takes them as they are
      pixels = new VideoLlavaVideoProcessor(videoConfig).preprocess(loaded, {
        doSampleFrames: false,
      }).pixelValuesVideos;
      result = {
        kind: 'video',
        input,
        dtype: 'float32',
        shape: [...pixels.dims],
        sourceSize: { width: loaded.width, height: loaded.height },
        frameIndices: loaded.indices,
        totalFrames: loaded.totalFrames,
        fps: loaded.fps ?? null,
      };
    }
    const preprocessDone = performance.now();
    await writeNpyFile(outPath, pixels);
    const writeDone = performance.now();
    const report: PreprocessResult = {
      ...result,
      out: outPath,
      timingsMs: {
        config: configDone - started,
        decode: decodeDone - configDone,
        preprocess: preprocessDone - decodeDone,
        write: writeDone - preprocessDone,
        total: writeDone - started,
      },
    };
    writeResult(io, report, { json: values.json, formatText, indent: 2 });
    return 0;
  },
});

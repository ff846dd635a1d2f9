import {
  Tensor,
  VideoLlavaError,
  type VideoLlavaWarning,
  type WarningCallback,
  describeValue,
  throwIfAborted,
} from '@video-llava/core';
import type { FrameSelection, LoadedVideo } from '../loaded-video.js';
import { arrangeFrames, pickFrameIndices } from '../pick-frame-indices.js';

/** A video for the browser loader: a `File`/`Blob`, its bytes, or a URL (same origin or CORS-enabled). */
export type BrowserVideoSource = Blob | ArrayBuffer | Uint8Array | string | URL;

/** Options of the browser {@link loadVideo}. */
export interface BrowserLoadVideoOptions extends FrameSelection {
  /**
   * How to decode: `'webcodecs'` (mediabunny demuxes, `VideoDecoder` decodes only the packets the chosen frames
   * need), `'video-element'` (seek a `<video>` to each chosen frame and draw it), or `'auto'`: WebCodecs when the
   * browser has it and can decode the codec, else the `<video>` element.
   * @default 'auto'
   */
  decoder?: 'auto' | 'webcodecs' | 'video-element';
  /** Stops decoding and rejects with `ABORTED`. */
  signal?: AbortSignal;
  /**
   * Receives what the caller should know about the frames (also in the result's `warnings`): `FRAMES_REPEATED`
   * when the video has fewer frames than `numFrames`, which then repeat as the model card's sampling does.
   */
  onWarning?: WarningCallback;
}

type Mediabunny = typeof import('mediabunny');

/** A frame's place on the timeline. */
interface FrameTime {
  timestamp: number;
  duration: number;
}

function describeSource(source: BrowserVideoSource): string {
  if (typeof source === 'string') return source;
  if (source instanceof URL) return source.href;
  if (typeof File !== 'undefined' && source instanceof File) return source.name;
  if (source instanceof Blob) return '<blob>';
  return '<bytes>';
}

function sourceSize(source: BrowserVideoSource): number | undefined {
  if (source instanceof Blob) return source.size;
  if (source instanceof ArrayBuffer) return source.byteLength;
  if (source instanceof Uint8Array) return source.byteLength;
  return undefined;
}

function createInput(mediabunny: Mediabunny, source: BrowserVideoSource): InstanceType<Mediabunny['Input']> {
  let inputSource;
  if (source instanceof Blob) inputSource = new mediabunny.BlobSource(source);
  else if (source instanceof ArrayBuffer || source instanceof Uint8Array)
    inputSource = new mediabunny.BufferSource(source);
  else inputSource = new mediabunny.UrlSource(source);
  return new mediabunny.Input({ source: inputSource, formats: mediabunny.ALL_FORMATS });
}

/**
 * The presentation timeline of the track's frames: every packet's timestamp, sorted (B-frames reordered), without
 * the frames an edit list hides (those that start before time 0), as FFmpeg drops them.
 */
async function frameTimeline(
  mediabunny: Mediabunny,
  track: Awaited<ReturnType<InstanceType<Mediabunny['Input']>['getPrimaryVideoTrack']>>,
  signal: AbortSignal | undefined,
): Promise<FrameTime[]> {
  const sink = new mediabunny.EncodedPacketSink(track!);
  const times: FrameTime[] = [];
  for await (const packet of sink.packets(undefined, undefined, { metadataOnly: true })) {
    throwIfAborted(signal, 'video decoding');
    // a microsecond of slack for timescale rounding of a frame meant to start at 0
    if (packet.timestamp >= -1e-6) times.push({ timestamp: packet.timestamp, duration: packet.duration });
  }
  times.sort((a, b) => a.timestamp - b.timestamp);
  return times;
}

/** The track's codec for messages: mediabunny's name, else the container's own identifier (e.g. `mp4v`). */
async function codecName(
  track: NonNullable<Awaited<ReturnType<InstanceType<Mediabunny['Input']>['getPrimaryVideoTrack']>>>,
): Promise<string> {
  const known = await track.getCodec();
  if (known) return known;
  const internal = await track.getInternalCodecId();
  return typeof internal === 'string' || typeof internal === 'number' ? String(internal) : 'unknown-codec';
}

/** Draws a frame source on a canvas and returns its RGB samples. */
function rgbOf(draw: (context: OffscreenCanvasRenderingContext2D) => void, width: number, height: number): Uint8Array {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true, colorSpace: 'srgb', alpha: false });
  if (!context)
    throw new VideoLlavaError('UNSUPPORTED', 'This browser gives no 2D canvas context to read video frames with.', {
      field: 'OffscreenCanvas',
    });
  draw(context);
  const rgba = context.getImageData(0, 0, width, height, { colorSpace: 'srgb' }).data;
  const rgb = new Uint8Array(width * height * 3);
  for (let pixel = 0, source = 0; pixel < rgb.length; pixel += 3, source += 4) {
    rgb[pixel] = rgba[source]!;
    rgb[pixel + 1] = rgba[source + 1]!;
    rgb[pixel + 2] = rgba[source + 2]!;
  }
  return rgb;
}

interface DecodeTarget {
  file: string;
  width: number;
  height: number;
  times: FrameTime[];
  sorted: number[];
  signal: AbortSignal | undefined;
}

type VideoSampleInstance = InstanceType<Mediabunny['VideoSample']>;

/**
 * The sample re-tagged as BT.601 (`smpte170m`). Decoders label frames of a stream that states no colour matrix as
 * BT.709, while FFmpeg (and so the Node path and the reference's OpenCV) converts such streams with BT.601, as
 * browsers' `<video>` does for them: without this the two paths would differ by about 7 levels.
 */
async function asBt601(
  mediabunny: Mediabunny,
  sample: VideoSampleInstance,
  fullRange: boolean,
): Promise<VideoSampleInstance> {
  const frame = sample.toVideoFrame();
  try {
    if (frame.format === null) return sample.clone();
    // copyTo copies the visible rectangle: that becomes the whole coded picture of the new frame
    const buffer = new Uint8Array(frame.allocationSize());
    const layout = await frame.copyTo(buffer);
    const visible = frame.visibleRect!;
    const retagged = new VideoFrame(buffer, {
      format: frame.format,
      codedWidth: visible.width,
      codedHeight: visible.height,
      timestamp: frame.timestamp,
      layout,
      displayWidth: frame.displayWidth,
      displayHeight: frame.displayHeight,
      colorSpace: { matrix: 'smpte170m', primaries: 'smpte170m', transfer: 'smpte170m', fullRange },
    });
    return new mediabunny.VideoSample(retagged, { rotation: sample.rotation });
  } finally {
    frame.close();
  }
}

async function decodeWithWebCodecs(
  mediabunny: Mediabunny,
  track: NonNullable<Awaited<ReturnType<InstanceType<Mediabunny['Input']>['getPrimaryVideoTrack']>>>,
  target: DecodeTarget,
): Promise<Uint8Array> {
  const { width, height, sorted, times, file } = target;
  const colorSpace = await track.getColorSpace();
  const retag = colorSpace.matrix === undefined || colorSpace.matrix === null;
  const frameBytes = width * height * 3;
  const out = new Uint8Array(frameBytes * sorted.length);
  const sink = new mediabunny.VideoSampleSink(track);
  let position = 0;
  // exact timestamps of the chosen frames: the sink returns the frame starting at each, decoding from the key
  // frame before it and never past it
  for await (const sample of sink.samplesAtTimestamps(sorted.map((index) => times[index]!.timestamp))) {
    try {
      throwIfAborted(target.signal, 'video decoding');
      if (sample === null) {
        throw new VideoLlavaError('DECODE_FAILED', `${file}: frame ${sorted[position]} could not be decoded.`, {
          file,
          field: `indices`,
          actual: sorted[position],
        });
      }
      const drawable = retag ? await asBt601(mediabunny, sample, colorSpace.fullRange ?? false) : sample;
      try {
        out.set(
          rgbOf((context) => drawable.draw(context, 0, 0, width, height), width, height),
          position * frameBytes,
        );
      } finally {
        if (drawable !== sample) drawable.close();
      }
    } finally {
      sample?.close();
    }
    position++;
  }
  if (position !== sorted.length) {
    throw new VideoLlavaError(
      'DECODE_FAILED',
      `${file}: the decoder gave ${position} of the ${sorted.length} frames asked for.`,
      { file, expected: sorted.length, actual: position },
    );
  }
  return out;
}

function once(target: EventTarget, event: string, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (): void => {
      cleanup();
      reject(
        new VideoLlavaError('DECODE_FAILED', `The <video> element could not play this video (${event}).`, {
          field: 'video element',
        }),
      );
    };
    const onAbort = (): void => {
      cleanup();
      reject(new VideoLlavaError('ABORTED', 'The video decoding was aborted.', { cause: signal?.reason }));
    };
    const onEvent = (): void => {
      cleanup();
      resolve();
    };
    const cleanup = (): void => {
      target.removeEventListener(event, onEvent);
      target.removeEventListener('error', onError);
      signal?.removeEventListener('abort', onAbort);
    };
    target.addEventListener(event, onEvent, { once: true });
    target.addEventListener('error', onError, { once: true });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function decodeWithVideoElement(source: BrowserVideoSource, target: DecodeTarget): Promise<Uint8Array> {
  if (typeof document === 'undefined') {
    throw new VideoLlavaError(
      'UNSUPPORTED',
      `${target.file}: this environment has neither WebCodecs for the codec nor a <video> element to decode with.`,
      {
        file: target.file,
        field: 'decoder',
        expected: 'WebCodecs or a DOM',
        actual: 'neither',
      },
    );
  }
  const { width, height, sorted, times, file } = target;
  const frameBytes = width * height * 3;
  const out = new Uint8Array(frameBytes * sorted.length);
  const video = document.createElement('video');
  let objectUrl: string | undefined;
  if (typeof source === 'string' || source instanceof URL) {
    video.crossOrigin = 'anonymous';
    video.src = String(source);
  } else {
    const blob =
      source instanceof Blob ? source : new Blob([source instanceof Uint8Array ? new Uint8Array(source) : source]);
    objectUrl = URL.createObjectURL(blob);
    video.src = objectUrl;
  }
  video.muted = true;
  video.preload = 'auto';
  try {
    const loaded = once(video, 'loadeddata', target.signal);
    video.load();
    await loaded;
    for (const [position, index] of sorted.entries()) {
      const { timestamp, duration } = times[index]!;
      // the middle of the frame's display interval: the element shows exactly this frame there
      const seeked = once(video, 'seeked', target.signal);
      video.currentTime = Math.max(timestamp + duration / 2, 0);
      await seeked;
      if ('requestVideoFrameCallback' in video) {
        await new Promise<void>((resolve) => {
          // a paused seek presents one frame; don't wait forever if the browser already presented it
          const timer = setTimeout(resolve, 100);
          video.requestVideoFrameCallback(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      out.set(
        rgbOf((context) => context.drawImage(video, 0, 0, width, height), width, height),
        position * frameBytes,
      );
    }
  } catch (error) {
    if (VideoLlavaError.isInstance(error) && error.file === undefined) {
      throw new VideoLlavaError(error.code, `${file}: ${error.message}`, { file, field: error.field, cause: error });
    }
    throw error;
  } finally {
    video.removeAttribute('src');
    video.load();
    if (objectUrl !== undefined) URL.revokeObjectURL(objectUrl);
  }
  return out;
}

/**
 * Decodes the frames Video-LLaVA needs from a video in the browser. mediabunny demuxes the file (MP4/MOV, WebM/MKV,
 * Ogg, MPEG-TS, ...) and lists every frame's timestamp, so frames are picked by their index exactly as in Node;
 * then WebCodecs decodes only from the key frame before each chosen frame up to it (memory holds the output
 * frames alone). Where WebCodecs is missing or cannot decode the codec, a `<video>` element is seeked to each
 * frame instead. Frames are read through a 2D canvas in sRGB: the browser's YUV→RGB conversion may differ from
 * FFmpeg's by a level or two.
 *
 * @param source a `File`/`Blob`, the file's bytes, or a URL
 * @param options which frames (`numFrames`, default 8; `indices`; or `fps`), the decoder, an abort signal
 * @throws VideoLlavaError naming the file: `INVALID_FILE` (empty, not a video the demuxer reads, no video track);
 *   `INVALID_ARGUMENT` when the video has fewer frames than asked (like the reference sampler); `DECODE_FAILED`;
 *   `UNSUPPORTED` when neither WebCodecs nor a `<video>` element can decode it; `ABORTED`
 */
export async function loadVideo(
  source: BrowserVideoSource,
  options: BrowserLoadVideoOptions = {},
): Promise<LoadedVideo> {
  const file = describeSource(source);
  const decoder = options.decoder ?? 'auto';
  if (!['auto', 'webcodecs', 'video-element'].includes(decoder)) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `options.decoder should be 'auto', 'webcodecs' or 'video-element', found ${describeValue(decoder)}.`,
      {
        field: 'decoder',
        expected: ['auto', 'webcodecs', 'video-element'],
        actual: decoder,
      },
    );
  }
  if (sourceSize(source) === 0) {
    throw new VideoLlavaError('INVALID_FILE', `${file} is empty (0 bytes); expected a video file.`, {
      file,
      expected: 'a non-empty video file',
      actual: '0 bytes',
    });
  }
  throwIfAborted(options.signal, 'video decoding');
  const mediabunny: Mediabunny = await import('mediabunny');
  const input = createInput(mediabunny, source);
  try {
    let readable: boolean;
    try {
      readable = await input.canRead();
    } catch (cause) {
      throw new VideoLlavaError(
        'INVALID_FILE',
        `${file} could not be read: ${cause instanceof Error ? cause.message : String(cause)}`,
        { file, cause },
      );
    }
    if (!readable) {
      throw new VideoLlavaError(
        'INVALID_FILE',
        `${file} is not a video the demuxer reads (truncated, or not a video at all).`,
        {
          file,
          expected: 'a video file (MP4/MOV, WebM/MKV, Ogg, MPEG-TS, ...)',
          actual: 'unrecognised data',
        },
      );
    }
    const track = await input.getPrimaryVideoTrack();
    if (track === null) {
      const others = (await input.getTracks()).map((other) => other.type);
      const actual = others.length > 0 ? `only ${[...new Set(others)].join(' and ')} tracks` : 'no tracks';
      throw new VideoLlavaError('INVALID_FILE', `${file} has no video stream (${actual}).`, {
        file,
        field: 'video stream',
        expected: 'a file with a video track',
        actual,
      });
    }
    const times = await frameTimeline(mediabunny, track, options.signal);
    if (times.length === 0) {
      throw new VideoLlavaError('INVALID_FILE', `The video track of ${file} has no frames.`, {
        file,
        field: 'video stream',
        expected: 'at least one frame',
        actual: 0,
      });
    }
    const stats = await track.computePacketStats();
    const fps = stats.averagePacketRate > 0 ? stats.averagePacketRate : undefined;
    const warnings: VideoLlavaWarning[] = [];
    const indices = pickFrameIndices(file, times.length, fps, options, (warning) => {
      warnings.push(warning);
      options.onWarning?.(warning);
    });
    const sorted = [...new Set(indices)].sort((a, b) => a - b);
    const width = await track.getDisplayWidth();
    const height = await track.getDisplayHeight();
    const target: DecodeTarget = { file, width, height, times, sorted, signal: options.signal };

    const webCodecs = typeof VideoDecoder !== 'undefined' && (await track.canDecode());
    const codec = await codecName(track);
    if (decoder === 'webcodecs' && !webCodecs) {
      throw new VideoLlavaError(
        'UNSUPPORTED',
        `${file}: WebCodecs cannot decode this ${codec} video in this browser.`,
        {
          file,
          field: 'codec',
          expected: 'a codec the browser decodes',
          actual: codec,
        },
      );
    }
    let decoded: Uint8Array;
    if (decoder === 'video-element' || !webCodecs) {
      try {
        decoded = await decodeWithVideoElement(source, target);
      } catch (error) {
        // The <video> element says only that it failed; with WebCodecs unable too, the codec is the likely cause.
        if (!VideoLlavaError.isInstance(error) || error.code !== 'DECODE_FAILED' || webCodecs) throw error;
        throw new VideoLlavaError(
          'UNSUPPORTED',
          `${file}: this browser cannot decode this ${codec} video: WebCodecs does not support it and the <video> element could not play it. Re-encode it (H.264, VP9 or AV1), or decode it in Node (@video-llava/video-processor/node).`,
          { file, field: 'codec', expected: 'a codec the browser decodes', actual: codec, cause: error },
        );
      }
    } else {
      decoded = await decodeWithWebCodecs(mediabunny, track, target);
    }
    return {
      file,
      frames: new Tensor('uint8', arrangeFrames(decoded, sorted, indices, width * height * 3), [
        indices.length,
        height,
        width,
        3,
      ]),
      indices,
      totalFrames: times.length,
      fps,
      width,
      height,
      warnings,
    };
  } finally {
    input.dispose();
  }
}

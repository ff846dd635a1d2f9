/** What FFmpeg's log says about the first video stream of its input. */
export interface FfmpegStreamInfo {
  /** Codec name, e.g. `h264`, `mpeg4`. */
  codec: string;
  /** Coded width and height (before any rotation). */
  width: number;
  height: number;
  /** Frame rate (`fps`, else `tbr`), when printed. */
  fps: number | undefined;
  /** Rotation in degrees from the stream's display matrix or `rotate` tag, 0 when none. */
  rotation: number;
}

function parseRate(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = /^([\d.]+)(k?)$/.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]) * (match[2] === 'k' ? 1000 : 1);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/** The part of the log that describes the input (before FFmpeg describes its output). */
function inputSection(log: string): string {
  const output = log.indexOf('\nOutput #0');
  return output === -1 ? log : log.slice(0, output);
}

/** Parses the first `Stream #0:N...: Video: ...` line of the input section, or undefined when there is none. */
export function parseVideoStream(log: string): FfmpegStreamInfo | undefined {
  const section = inputSection(log);
  const lines = section.split('\n');
  const index = lines.findIndex((line) => /^\s*Stream #0:\d+.*?: Video: /.test(line));
  if (index === -1) return undefined;
  const line = lines[index]!;
  const codec = /: Video: ([^\s,]+)/.exec(line)?.[1] ?? 'unknown';
  const size = /, (\d{1,6})x(\d{1,6})[\s,]/.exec(line);
  const fps = parseRate(/, ([\d.]+k?) fps/.exec(line)?.[1]) ?? parseRate(/, ([\d.]+k?) tbr/.exec(line)?.[1]);
  // rotation: look at this stream's metadata and side data, up to the next stream
  let rotation = 0;
  for (let next = index + 1; next < lines.length && !/^\s*Stream #/.test(lines[next]!); next++) {
    const rotate = /^\s*rotate\s*:\s*(-?\d+)/.exec(lines[next]!);
    if (rotate) rotation = Number(rotate[1]);
    const matrix = /displaymatrix: rotation of (-?[\d.]+) degrees/.exec(lines[next]!);
    if (matrix) rotation = -Number(matrix[1]);
  }
  return {
    codec,
    width: Number(size?.[1] ?? 0),
    height: Number(size?.[2] ?? 0),
    fps,
    rotation: ((Math.round(rotation) % 360) + 360) % 360,
  };
}

/** Width and height of the output stream (`Output #0 ... Video: rawvideo ..., rgb24, WxH`), after rotation. */
export function parseOutputSize(log: string): { width: number; height: number } | undefined {
  const output = log.indexOf('\nOutput #0');
  if (output === -1) return undefined;
  const match = /Stream #0:\d+.*?: Video: .*?, (\d{1,6})x(\d{1,6})[\s,]/.exec(log.slice(output));
  if (!match) return undefined;
  return { width: Number(match[1]), height: Number(match[2]) };
}

/** The last `frame=  N` progress count in the log. */
export function parseFrameCount(log: string): number | undefined {
  let last: number | undefined;
  for (const match of log.matchAll(/frame=\s*(\d+)/g)) last = Number(match[1]);
  return last;
}

/** The most telling error line of a failed run (FFmpeg prints the cause last). */
export function lastErrorLine(log: string): string {
  const lines = log
    .split(/\r?\n|\r/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('frame=') && !/^(video|audio):\d/.test(line));
  return lines.at(-1) ?? '(FFmpeg printed nothing)';
}

/**
 * What FFmpeg logs while reading or decoding a damaged file (truncated, corrupt packets, broken bitstream), and
 * never for a whole one: the demuxer's short reads and the decoders' error concealment.
 */
const DAMAGE_PATTERNS: readonly RegExp[] = [
  /corrupt input packet/i,
  /partial file/i,
  /Invalid data found when processing input/i,
  /error while decoding/i,
  /concealing \d+ (DC|AC|MV)/i,
  /Invalid NAL unit size/i,
  /decode_slice_header error/i,
  /Packet corrupt/i,
  /Truncating packet/i,
  /Error splitting the input into NAL units/i,
  /header damaged/i,
  /illegal (short )?term/i,
  /slice end not reached/i,
];

/**
 * The first line of the processing part of a log (after `Stream mapping:`, or the whole log) that says the input is
 * damaged, or undefined for a clean read.
 */
export function findDamage(log: string): string | undefined {
  const mapping = log.indexOf('Stream mapping:');
  const processing = mapping === -1 ? log : log.slice(mapping);
  for (const line of processing.split(/\r?\n|\r/)) {
    const text = line.trim();
    if (DAMAGE_PATTERNS.some((pattern) => pattern.test(text))) return text;
  }
  return undefined;
}

/** The `Duration:` of the input in seconds, when the container declares one. */
export function parseDeclaredDuration(log: string): number | undefined {
  const match = /^\s*Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)/m.exec(log);
  if (!match) return undefined;
  const seconds = Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
}

/** Known FFmpeg failures, in words that say what is wrong with the file (FFmpeg's own line stays in `actual`). */
const FAILURE_EXPLANATIONS: ReadonlyArray<[RegExp, string]> = [
  [/moov atom not found/i, 'the MP4/MOV index (moov atom) is missing: the file is truncated or was never finished'],
  [
    /Invalid data found when processing input/i,
    'its data is not valid for its format: the file is damaged, truncated, or not a video',
  ],
  [/Permission denied/i, 'it cannot be read (permission denied)'],
  [/No such file or directory/i, 'it does not exist'],
  [/Is a directory/i, 'it is a folder, not a file'],
  [/Decoder \(codec ([^)]+)\) not found|Unknown decoder/i, 'FFmpeg has no decoder for its codec'],
  [
    /could not find codec parameters|unspecified size/i,
    "FFmpeg cannot tell the video stream's codec parameters (size, pixel format): the stream is damaged or truncated",
  ],
  [/does not contain any stream/i, 'it holds no stream FFmpeg can read'],
  [/Output file #0 does not contain any stream|Stream map .* matches no streams/i, 'it has no video stream'],
  [
    /EBML header parsing failed|Invalid atom size|truncated|End of file/i,
    'the file is truncated or its container structure is damaged',
  ],
  [/Cannot allocate memory/i, 'decoding it ran out of memory'],
];

/**
 * A sentence saying what is wrong with the file, from an FFmpeg log: a known failure in words, else FFmpeg's most
 * telling line (see {@link lastErrorLine}).
 */
export function explainFfmpegFailure(log: string): string {
  for (const [pattern, explanation] of FAILURE_EXPLANATIONS) {
    const line = log.split(/\r?\n|\r/).find((candidate) => pattern.test(candidate));
    if (line !== undefined) return `${explanation} (FFmpeg: ${line.trim()})`;
  }
  return `FFmpeg said: ${lastErrorLine(log)}`;
}

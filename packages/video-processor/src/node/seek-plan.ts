import type { PacketList } from './packet-list.js';

/** Codecs whose packets are one shown frame each and whose key packets FFmpeg can start decoding at. */
const SEEKABLE_CODECS = new Set(['h264', 'hevc', 'vp9', 'av1']);

/** Frames between two wanted frames that make a new FFmpeg run (seeking to a key frame) worth its start-up. */
const MIN_SKIPPED_FRAMES = 16;

/** One FFmpeg run of a {@link SeekPlan}: seek, then decode up to the last of its frames. */
export interface SeekSegment {
  /** Input seek position (`-ss`, seconds from the file's start), or undefined to decode from the start. */
  seekSeconds: number | undefined;
  /** Presentation times (seconds, as FFmpeg's `pts*TB`) of the wanted frames, ascending. */
  times: number[];
}

/** How to decode wanted frames with fewer decoded frames: runs that each start at a key frame. */
export interface SeekPlan {
  /** The runs, in order; their frames together are the wanted frames in ascending order. */
  segments: SeekSegment[];
  /** Half the smallest gap between two frames (seconds): how close a time must be to name a frame. */
  tolerance: number;
}

/** The shown frames: presentation times (timestamp units) in ascending order, or undefined if they are not simple. */
export function shownFrameTimes(packets: PacketList): number[] | undefined {
  const shown: number[] = [];
  for (let index = 0; index < packets.pts.length; index++) {
    const hidden = packets.discard[index]!;
    // an edit list hides frames before time 0; anything else is a file this planner does not reason about
    if (hidden !== packets.pts[index]! < 0) return undefined;
    if (!hidden) shown.push(packets.pts[index]!);
  }
  shown.sort((a, b) => a - b);
  for (let index = 1; index < shown.length; index++) if (shown[index] === shown[index - 1]) return undefined;
  return shown;
}

/**
 * Whether every key packet is a clean start: all packets before it (in decode order) show earlier, all packets from
 * it on show at or after it. Then decoding from any key packet gives exactly the frames from it on, correctly (no
 * open GOP whose leading frames need the previous one).
 */
function keyPacketsAreCleanStarts(packets: PacketList): boolean {
  const count = packets.pts.length;
  const suffixMinimum = new Array<number>(count + 1);
  suffixMinimum[count] = Number.POSITIVE_INFINITY;
  for (let index = count - 1; index >= 0; index--)
    suffixMinimum[index] = Math.min(suffixMinimum[index + 1]!, packets.pts[index]!);
  let prefixMaximum = Number.NEGATIVE_INFINITY;
  for (let index = 0; index < count; index++) {
    const pts = packets.pts[index]!;
    if (packets.key[index] && !(prefixMaximum < pts && suffixMinimum[index] === pts)) return false;
    prefixMaximum = Math.max(prefixMaximum, pts);
  }
  return true;
}

/**
 * The shown frames' presentation times (timestamp units, ascending) when the stream is one where seeking is known to
 * give the very frames a full decode numbers: a codec whose packets are one shown frame each, no hidden frames but
 * an edit list's, no repeated timestamps, every key packet a clean start, the first shown frame decodable. Else
 * undefined.
 */
export function seekableFrameTimes(packets: PacketList, codec: string): number[] | undefined {
  if (!SEEKABLE_CODECS.has(codec)) return undefined;
  const shown = shownFrameTimes(packets);
  if (shown === undefined || shown.length === 0 || !keyPacketsAreCleanStarts(packets)) return undefined;
  let firstKey = Number.POSITIVE_INFINITY;
  packets.pts.forEach((pts, index) => {
    if (packets.key[index] && pts < firstKey) firstKey = pts;
  });
  return firstKey <= shown[0]! ? shown : undefined;
}

/**
 * Plans decoding the frames with these indices by seeking to the key frame before groups of them, so that a long
 * video is decoded only from the key frame before each wanted frame up to it, not from its start. Returns undefined
 * when seeking would not help (one run from the start): then decode from the start.
 *
 * @param packets the stream's packets (`parsePacketList`)
 * @param shown the shown frames' times from {@link seekableFrameTimes}: only a stream where seeking is known to give
 *   the very frames a full decode numbers `indices` can be planned (not another codec, hidden frames other than an
 *   edit list's, repeated timestamps, open GOPs)
 * @param startSeconds the file's start time (FFmpeg's `start:`), which `-ss` counts from
 * @param sorted the wanted frame indices, ascending and unique
 */
export function planSeeks(
  packets: PacketList,
  shown: readonly number[],
  startSeconds: number,
  sorted: readonly number[],
): SeekPlan | undefined {
  if (sorted.length === 0 || sorted.at(-1)! >= shown.length) return undefined;
  const keyTimes = packets.pts.filter((_, index) => packets.key[index]).sort((a, b) => a - b);
  const { timeBase } = packets;
  let smallestGap = Number.POSITIVE_INFINITY;
  for (let index = 1; index < shown.length; index++)
    smallestGap = Math.min(smallestGap, shown[index]! - shown[index - 1]!);
  const frameSeconds = Number.isFinite(smallestGap) ? smallestGap * timeBase : 1;

  /** The latest key packet time at or before `pts` (there is one: the first key packet shows first). */
  const keyBefore = (pts: number): number => {
    let low = 0;
    let high = keyTimes.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (keyTimes[middle]! <= pts) low = middle;
      else high = middle - 1;
    }
    return keyTimes[low]!;
  };
  /** Shown frames before `pts`. */
  const rankOf = (pts: number): number => {
    let low = 0;
    let high = shown.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (shown[middle]! < pts) low = middle + 1;
      else high = middle;
    }
    return low;
  };

  const segments: SeekSegment[] = [];
  let previous = -1;
  for (const index of sorted) {
    const pts = shown[index]!;
    const key = keyBefore(pts);
    const skipped = rankOf(key) - (previous + 1);
    if (segments.length === 0 || (key > shown[previous]! && skipped >= MIN_SKIPPED_FRAMES)) {
      const fromStart = key === keyTimes[0];
      // FFmpeg seeks to the last key packet whose decode time is a little before -ss (it subtracts 3/23 s when the
      // stream reorders frames), so aim a little after the key frame, never after the first wanted frame: landing on
      // an earlier key frame only costs time, and the frames are chosen by their time anyway.
      const seekAt = Math.min(key * timeBase + 0.25, pts * timeBase + frameSeconds / 2);
      segments.push({ seekSeconds: fromStart ? undefined : Math.max(seekAt - startSeconds, 0), times: [] });
    }
    segments.at(-1)!.times.push(pts * timeBase);
    previous = index;
  }
  if (segments.length === 1 && segments[0]!.seekSeconds === undefined) return undefined;
  return { segments, tolerance: frameSeconds / 2 };
}

import { describe, expect, it } from 'vitest';
import { type PacketList, parsePacketList } from './packet-list.js';
import { planSeeks, seekableFrameTimes, shownFrameTimes } from './seek-plan.js';

/** A framecrc listing: one `[pts, flags]` per packet in decode order (flags 1 = key, 4 = discard, 0 = neither). */
function framecrc(packets: Array<[number, number]>, timeBase = '1/10'): string {
  const lines = ['#software: Lavf58.24.100', `#tb 0: ${timeBase}`, '#media_type 0: video'];
  packets.forEach(([pts, flags], index) => {
    lines.push(
      `0, ${String(index - 2).padStart(10)}, ${String(pts).padStart(10)}, 1, 100, 0x12345678${flags === 1 ? '' : `, F=0x${flags.toString(16)}`}`,
    );
  });
  return `${lines.join('\n')}\n`;
}

/** Closed GOPs of `gop` frames, each key frame followed by P frames in order. */
function closedGops(frames: number, gop: number): PacketList {
  return parsePacketList(
    framecrc(Array.from({ length: frames }, (_, index) => [index, index % gop === 0 ? 1 : 0] as [number, number])),
  )!;
}

describe('parsePacketList (FFmpeg framecrc)', () => {
  it('reads the time base, timestamps and flags; no F= is a key packet, 0x4 is discard', () => {
    const list = parsePacketList(
      framecrc(
        [
          [-2, 5],
          [0, 0],
          [1, 1],
        ],
        '1/15360',
      ),
    )!;
    expect(list.timeBase).toBe(1 / 15360);
    expect(list.pts).toEqual([-2, 0, 1]);
    expect(list.key).toEqual([true, false, true]);
    expect(list.discard).toEqual([true, false, false]);
  });

  it('gives undefined for text that is not a listing, or a packet without a timestamp', () => {
    expect(parsePacketList('hello')).toBeUndefined();
    expect(parsePacketList('#tb 0: 1/10\n')).toBeUndefined();
    expect(parsePacketList('#tb 0: 1/10\n0, 0, -9223372036854775808, 1, 100, 0x1\n')).toBeUndefined();
  });
});

/** {@link planSeeks} for a stream of this codec: undefined where {@link seekableFrameTimes} refuses the stream. */
function planFor(packets: PacketList, codec: string, startSeconds: number, sorted: number[]) {
  const shown = seekableFrameTimes(packets, codec);
  return shown && planSeeks(packets, shown, startSeconds, sorted);
}

describe('planSeeks', () => {
  it('starts a run at the key frame before a wanted frame when that skips at least 16 frames', () => {
    const packets = closedGops(300, 50);
    const plan = planFor(packets, 'h264', 0, [0, 40, 120, 130, 290])!;
    // 40 is reached from the start (key frame 0 is before it and nothing is skipped); 120 from key frame 100
    // (frames 41..99 skipped); 130 follows 120 in the same run; 290 from key frame 250
    expect(plan.segments.map((segment) => segment.times)).toEqual([[0, 4], [12, 13], [29]]);
    expect(plan.segments[0]!.seekSeconds).toBeUndefined();
    // aim a quarter second after the key frame, never past the first wanted frame
    expect(plan.segments[1]!.seekSeconds).toBeCloseTo(10.25, 9);
    expect(plan.segments[2]!.seekSeconds).toBeCloseTo(25.25, 9);
    expect(plan.tolerance).toBeCloseTo(0.05, 12);
    // the file's start time is taken off, since -ss counts from it
    expect(planFor(packets, 'h264', 1.5, [0, 290])!.segments[1]!.seekSeconds).toBeCloseTo(23.75, 9);
  });

  it('aims no later than half a frame after a wanted key frame', () => {
    const plan = planFor(closedGops(300, 50), 'h264', 0, [0, 100])!;
    expect(plan.segments[1]!.seekSeconds).toBeCloseTo(10.05, 9);
  });

  it('does not plan when one run from the start does it all, or too little is skipped', () => {
    const packets = closedGops(300, 50);
    expect(planFor(packets, 'h264', 0, [0, 10, 20, 30, 40])).toBeUndefined();
    // 55 comes from key frame 50, but only frames 41..49 (9) would be skipped
    expect(planFor(packets, 'h264', 0, [0, 40, 55])).toBeUndefined();
  });

  it('plans only for codecs whose packets are one shown frame each', () => {
    const packets = closedGops(300, 50);
    expect(planFor(packets, 'hevc', 0, [0, 290])).toBeDefined();
    expect(planFor(packets, 'mpeg4', 0, [0, 290])).toBeUndefined();
    expect(seekableFrameTimes(packets, 'mpeg2video')).toBeUndefined();
  });

  it('reorders B-frames by time and accepts closed GOPs with them', () => {
    // decode order I0 P3 B1 B2 | I4 P7 B5 B6 (key frames 0 and 4, all later packets show after their key frame)
    const packets = parsePacketList(
      framecrc([
        [0, 1],
        [3, 0],
        [1, 0],
        [2, 0],
        [4, 1],
        [7, 0],
        [5, 0],
        [6, 0],
      ]),
    )!;
    expect(seekableFrameTimes(packets, 'h264')).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('refuses open GOPs: leading B-frames after a key frame that show before it', () => {
    // decode order I0 P3 B1 B2 | I6 B4 B5 P9 ...: B4 and B5 need P3 and I6
    const packets = parsePacketList(
      framecrc([
        [0, 1],
        [3, 0],
        [1, 0],
        [2, 0],
        [6, 1],
        [4, 0],
        [5, 0],
        [9, 0],
        [7, 0],
        [8, 0],
      ]),
    )!;
    expect(seekableFrameTimes(packets, 'h264')).toBeUndefined();
    expect(planFor(packets, 'h264', 0, [0, 9])).toBeUndefined();
  });

  it("leaves out an edit list's hidden frames, and refuses hidden frames of any other kind or repeated times", () => {
    // a hidden key frame and two hidden frames before time 0, then the shown ones
    const editList = parsePacketList(
      framecrc([
        [-3, 5],
        [-1, 4],
        [-2, 4],
        [0, 0],
        [1, 0],
        [2, 1],
        [3, 0],
      ]),
    )!;
    expect(shownFrameTimes(editList)).toEqual([0, 1, 2, 3]);
    expect(seekableFrameTimes(editList, 'h264')).toEqual([0, 1, 2, 3]);
    // a frame marked to be dropped at a time >= 0
    expect(
      shownFrameTimes(
        parsePacketList(
          framecrc([
            [0, 1],
            [1, 4],
            [2, 0],
          ]),
        )!,
      ),
    ).toBeUndefined();
    // a frame before time 0 that is not dropped
    expect(
      shownFrameTimes(
        parsePacketList(
          framecrc([
            [-1, 1],
            [0, 0],
          ]),
        )!,
      ),
    ).toBeUndefined();
    expect(
      shownFrameTimes(
        parsePacketList(
          framecrc([
            [0, 1],
            [1, 0],
            [1, 0],
          ]),
        )!,
      ),
    ).toBeUndefined();
  });

  it('refuses a stream whose first shown frame has no key frame before it, and indices past the end', () => {
    expect(
      seekableFrameTimes(
        parsePacketList(
          framecrc([
            [0, 0],
            [1, 1],
            [2, 0],
          ]),
        )!,
        'h264',
      ),
    ).toBeUndefined();
    expect(planFor(closedGops(300, 50), 'h264', 0, [0, 300])).toBeUndefined();
  });
});

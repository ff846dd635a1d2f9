/** The packets of a video stream as FFmpeg's demuxer gives them (`-c copy -f framecrc`), in decode order. */
export interface PacketList {
  /** Seconds per timestamp unit. */
  timeBase: number;
  /** Presentation timestamps, in {@link timeBase} units. */
  pts: number[];
  /** Key (sync) packets: decoding can start there. */
  key: boolean[];
  /** Packets the demuxer marks to be dropped after decoding (frames an edit list hides). */
  discard: boolean[];
}

// framecrc writes INT64_MIN for a missing timestamp.
const NO_TIMESTAMP = -9e18;

/**
 * Parses the output of `ffmpeg -copyts -i FILE -map 0:v:0 -c copy -f framecrc -`: a `#tb 0: num/den` line, then one
 * line per packet, `stream, dts, pts, duration, size, crc[, F=0xFLAGS]` (no `F=` means a key packet; flag 0x4 is
 * discard). Returns undefined when the text is not that, or a packet has no timestamp.
 */
export function parsePacketList(text: string): PacketList | undefined {
  const timeBase = /^#tb 0: (\d+)\/(\d+)$/m.exec(text);
  if (!timeBase || Number(timeBase[2]) === 0) return undefined;
  const list: PacketList = { timeBase: Number(timeBase[1]) / Number(timeBase[2]), pts: [], key: [], discard: [] };
  for (const line of text.split('\n')) {
    if (line.length === 0 || line.startsWith('#')) continue;
    const fields = line.split(',').map((field) => field.trim());
    if (fields.length < 6 || fields[0] !== '0') return undefined;
    const pts = Number(fields[2]);
    if (!Number.isFinite(pts) || pts < NO_TIMESTAMP) return undefined;
    const flags = fields[6]?.startsWith('F=') ? Number.parseInt(fields[6].slice(2), 16) : 1;
    if (!Number.isFinite(flags)) return undefined;
    list.pts.push(pts);
    list.key.push((flags & 1) !== 0);
    list.discard.push((flags & 4) !== 0);
  }
  return list.pts.length > 0 ? list : undefined;
}

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveFfmpegPath } from '../src/node.js';

/** A temporary folder with videos made by the bundled FFmpeg for the tests. */
export interface TestVideos {
  directory: string;
  /** H.264 (libx264) in MP4, lavfi testsrc, 320x240, 10 fps, 30 frames. */
  h264: string;
  /** The same 30 frames, every one decoded, as RGB (the ground truth for frame exactness). */
  h264AllFrames: Uint8Array;
  /**
   * H.264 cut at 0.55 s without re-encoding: its edit list makes the decoder drop the 6 frames before the cut,
   * so it has 30 packets but 24 decodable frames.
   */
  editList: string;
  /** Every decodable frame of {@link editList}, as RGB. */
  editListAllFrames: Uint8Array;
  /** H.264 in MP4 with a key frame every 20 frames and B-frames, 160x120, 10 fps, 240 frames: worth seeking in. */
  gop20: string;
  /** Every frame of {@link gop20}, as RGB. */
  gop20AllFrames: Uint8Array;
  /** VP9 in WebM and HEVC (closed GOPs) in MP4, key frame every 20 frames, 160x120, 10 fps, 240 frames, with every frame as RGB. */
  seekable: Array<{ file: string; allFrames: Uint8Array }>;
  /** H.264 with open GOPs (B-frames before a key frame that need the previous GOP), 160x120, 240 frames. */
  openGop: string;
  /** Every frame of {@link openGop}, as RGB. */
  openGopAllFrames: Uint8Array;
  /** VP9 in WebM, 64x48, 12 frames. */
  vp9: string;
  /** H.264 with a 90 degree rotation tag, 320x240 coded. */
  rotated: string;
  /** 5 frames only. */
  short: string;
  /** AAC audio only, in .mp4. */
  audioOnly: string;
  /** A text file named .mp4. */
  text: string;
  /** 0 bytes. */
  empty: string;
  remove(): void;
}

export async function makeTestVideos(): Promise<TestVideos> {
  const ffmpeg = await resolveFfmpegPath();
  const directory = mkdtempSync(join(tmpdir(), 'video-processor-test-'));
  const run = (...args: string[]): Buffer =>
    execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args], {
      maxBuffer: 64 * 1024 * 1024,
    });
  /** Every frame of the file's first video stream as FFmpeg decodes it, packed RGB. */
  const allFrames = (file: string): Uint8Array =>
    new Uint8Array(run('-i', file, '-map', '0:v:0', '-vsync', '0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'));
  /** 24 s of FFmpeg's test pattern at 10 fps, 160x120: long enough for several groups of pictures. */
  const testPattern24s = ['-f', 'lavfi', '-i', 'testsrc=duration=24:size=160x120:rate=10'];
  const h264 = join(directory, 'testsrc_h264.mp4');
  run(
    '-f',
    'lavfi',
    '-i',
    'testsrc=duration=3:size=320x240:rate=10',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    '-bf',
    '2',
    h264,
  );
  const h264AllFrames = allFrames(h264);
  const gop10 = join(directory, 'testsrc_gop10.mp4');
  run(
    '-f',
    'lavfi',
    '-i',
    'testsrc=duration=3:size=320x240:rate=10',
    '-c:v',
    'libx264',
    '-g',
    '10',
    '-pix_fmt',
    'yuv420p',
    gop10,
  );
  const editList = join(directory, 'edit_list.mp4');
  run('-ss', '0.55', '-i', gop10, '-c', 'copy', editList);
  const editListAllFrames = allFrames(editList);
  const gop20 = join(directory, 'testsrc_gop20.mp4');
  run(...testPattern24s, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '20', '-bf', '2', gop20);
  const gop20AllFrames = allFrames(gop20);
  const seekable = [
    ['testsrc_vp9_gop20.webm', ['-c:v', 'libvpx-vp9', '-g', '20', '-deadline', 'realtime', '-cpu-used', '8']],
    [
      'testsrc_hevc_gop20.mp4',
      [
        '-c:v',
        'libx265',
        '-x265-params',
        'keyint=20:min-keyint=20:no-open-gop=1:log-level=error',
        '-pix_fmt',
        'yuv420p',
      ],
    ],
  ].map(([name, codec]) => {
    const file = join(directory, name as string);
    run(...testPattern24s, ...(codec as string[]), file);
    return {
      file,
      allFrames: allFrames(file),
    };
  });
  const openGop = join(directory, 'testsrc_open_gop.mp4');
  run(
    ...testPattern24s,
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    '-g',
    '20',
    '-bf',
    '3',
    '-x264-params',
    'open-gop=1',
    openGop,
  );
  const openGopAllFrames = allFrames(openGop);
  const vp9 = join(directory, 'testsrc_vp9.webm');
  run('-f', 'lavfi', '-i', 'testsrc=duration=1:size=64x48:rate=12', '-c:v', 'libvpx-vp9', '-pix_fmt', 'yuv420p', vp9);
  const rotated = join(directory, 'rotated.mp4');
  run('-i', h264, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated);
  const short = join(directory, 'five_frames.mp4');
  run('-f', 'lavfi', '-i', 'testsrc=duration=0.5:size=64x48:rate=10', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', short);
  const audioOnly = join(directory, 'audio_only.mp4');
  run('-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'aac', audioOnly);
  const text = join(directory, 'notes.mp4');
  writeFileSync(text, 'These are notes, not a video.\n');
  const empty = join(directory, 'empty.mp4');
  writeFileSync(empty, new Uint8Array(0));
  return {
    directory,
    h264,
    h264AllFrames,
    editList,
    editListAllFrames,
    gop20,
    gop20AllFrames,
    seekable,
    openGop,
    openGopAllFrames,
    vp9,
    rotated,
    short,
    audioOnly,
    text,
    empty,
    remove: () => rmSync(directory, { recursive: true, force: true }),
  };
}

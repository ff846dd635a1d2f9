import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveFfmpegPath } from '../src/node.js';

/** What loading a corpus file must give. */
export type ExpectedOutcome =
  /** Frames, and no warning. */
  | { kind: 'frames'; frames: number; width: number; height: number }
  /** Frames, with warnings of these codes (in order). */
  | { kind: 'warned'; warnings: string[]; width: number; height: number; maxTotalFrames?: number }
  /** A VideoLlavaError with this code whose message contains these words. */
  | { kind: 'error'; code: string; message: RegExp };

/** One file of the corpus. */
export interface MediaCase {
  name: string;
  file: string;
  /** How it was made or damaged, in words. */
  about: string;
  expected: ExpectedOutcome;
  /** Every frame FFmpeg decodes from it, as RGB, for the cases that decode cleanly (frame exactness). */
  allFrames?: Uint8Array;
}

/** The corpus: a temporary folder of broken and unusual media, all made here by the bundled FFmpeg. */
export interface MediaCorpus {
  directory: string;
  cases: MediaCase[];
  remove(): void;
}

/**
 * Makes the damaged-media corpus (small: 64x48, 10 fps, a few seconds, about 0.1 MB in all, a few seconds to make):
 * truncations at several points with the index at the front (it survives) or at the end (it is lost), corrupt bytes
 * in the middle, odd pixel formats (4:4:4, 10-bit 4:2:2, gray, RGBA PNG in MOV), rotations, variable frame rate,
 * audio only, zero frames, a one-frame and a five-frame clip, and animated GIF, APNG and WebP.
 */
export async function makeMediaCorpus(): Promise<MediaCorpus> {
  const ffmpeg = await resolveFfmpegPath();
  const directory = mkdtempSync(join(tmpdir(), 'video-processor-corpus-'));
  const run = (...args: string[]): Buffer =>
    execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args], {
      maxBuffer: 64 * 1024 * 1024,
    });
  const path = (name: string): string => join(directory, name);
  const source = (seconds: number) => ['-f', 'lavfi', '-i', `testsrc=duration=${seconds}:size=64x48:rate=10`];
  const allFrames = (file: string): Uint8Array =>
    new Uint8Array(run('-i', file, '-map', '0:v:0', '-vsync', '0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'));
  const cases: MediaCase[] = [];
  const add = (name: string, about: string, expected: ExpectedOutcome, withFrames = false): void => {
    cases.push({
      name,
      file: path(name),
      about,
      expected,
      ...(withFrames ? { allFrames: allFrames(path(name)) } : {}),
    });
  };

  // 60 frames, index (moov) at the front: a truncated copy still says how long it was.
  run(
    ...source(6),
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    '-g',
    '10',
    '-movflags',
    '+faststart',
    path('whole_faststart.mp4'),
  );
  add(
    'whole_faststart.mp4',
    'the intact original of the truncations',
    { kind: 'frames', frames: 8, width: 64, height: 48 },
    true,
  );
  const whole = readFileSync(path('whole_faststart.mp4'));
  for (const percent of [35, 60, 90, 99]) {
    const name = `truncated_${percent}pct_index_kept.mp4`;
    writeFileSync(path(name), whole.subarray(0, Math.floor((whole.length * percent) / 100)));
    add(name, `the first ${percent}% of the bytes: the index survives, the end of the frames does not`, {
      kind: 'warned',
      warnings: ['MEDIA_DAMAGED'],
      width: 64,
      height: 48,
      maxTotalFrames: 59,
    });
  }
  writeFileSync(path('truncated_in_header.mp4'), whole.subarray(0, 600));
  add('truncated_in_header.mp4', 'cut inside the index itself', {
    kind: 'error',
    code: 'INVALID_FILE',
    message: /truncated|damaged|index/,
  });
  // Index at the end (FFmpeg's default): truncation loses it.
  run(...source(3), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', path('whole_index_last.mp4'));
  const indexLast = readFileSync(path('whole_index_last.mp4'));
  writeFileSync(path('truncated_index_lost.mp4'), indexLast.subarray(0, Math.floor(indexLast.length / 2)));
  add('truncated_index_lost.mp4', 'the first half of an MP4 whose index is at the end', {
    kind: 'error',
    code: 'INVALID_FILE',
    message: /index \(moov atom\) is missing/,
  });
  // Corrupt bytes in the middle of the frames.
  run(
    ...source(3),
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    '-g',
    '10',
    '-movflags',
    '+faststart',
    path('to_corrupt.mp4'),
  );
  const corrupt = Buffer.from(readFileSync(path('to_corrupt.mp4')));
  for (let index = Math.floor(corrupt.length / 2); index < Math.floor(corrupt.length / 2) + 400; index++)
    corrupt[index] = (corrupt[index]! * 7 + 13) & 255;
  writeFileSync(path('corrupt_middle.mp4'), corrupt);
  add('corrupt_middle.mp4', '400 bytes scrambled in the middle of the H.264 data', {
    kind: 'warned',
    warnings: ['MEDIA_DAMAGED'],
    width: 64,
    height: 48,
  });

  // Odd pixel formats decode to the same RGB FFmpeg gives.
  run(...source(2), '-c:v', 'libx264', '-pix_fmt', 'yuv444p', path('yuv444p.mp4'));
  add('yuv444p.mp4', 'H.264 High 4:4:4', { kind: 'frames', frames: 8, width: 64, height: 48 }, true);
  run(...source(2), '-c:v', 'libx264', '-pix_fmt', 'yuv422p10le', path('yuv422p10le.mp4'));
  add('yuv422p10le.mp4', 'H.264 10-bit 4:2:2', { kind: 'frames', frames: 8, width: 64, height: 48 }, true);
  run(...source(2), '-pix_fmt', 'gray', '-c:v', 'ffv1', path('gray.mkv'));
  add('gray.mkv', 'FFV1 gray in Matroska', { kind: 'frames', frames: 8, width: 64, height: 48 }, true);
  run(...source(2), '-c:v', 'png', '-pix_fmt', 'rgba', path('rgba_png.mov'));
  add('rgba_png.mov', 'PNG frames with alpha in MOV', { kind: 'frames', frames: 8, width: 64, height: 48 }, true);

  // Rotations: the frames turn with the tag.
  run(...source(2), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', path('upright.mp4'));
  for (const degrees of [90, 180, 270]) {
    run(
      '-i',
      path('upright.mp4'),
      '-c',
      'copy',
      '-metadata:s:v:0',
      `rotate=${degrees}`,
      path(`rotated_${degrees}.mp4`),
    );
    const turned = degrees === 180 ? { width: 64, height: 48 } : { width: 48, height: 64 };
    add(`rotated_${degrees}.mp4`, `a ${degrees} degree rotation tag`, { kind: 'frames', frames: 8, ...turned }, true);
  }

  // Variable frame rate: frames are indexed as decoded, whatever their times.
  run(
    ...source(3),
    '-vf',
    "setpts='if(lt(N,10),N*0.05,0.5+(N-10)*0.2)/TB'",
    '-vsync',
    'vfr',
    '-c:v',
    'libx264',
    '-bf',
    '0',
    '-pix_fmt',
    'yuv420p',
    path('variable_rate.mp4'),
  );
  add(
    'variable_rate.mp4',
    'frames 0.05 s apart, then 0.2 s apart',
    { kind: 'frames', frames: 8, width: 64, height: 48 },
    true,
  );

  // Too short: frames repeat, with a note.
  run(...source(0.1), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', path('one_frame.mp4'));
  add('one_frame.mp4', 'a single frame', { kind: 'warned', warnings: ['FRAMES_REPEATED'], width: 64, height: 48 });
  run(...source(0.5), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', path('five_frames.mp4'));
  add('five_frames.mp4', 'five frames', { kind: 'warned', warnings: ['FRAMES_REPEATED'], width: 64, height: 48 });

  // No frames at all.
  run('-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'aac', path('audio_only.m4a'));
  add('audio_only.m4a', 'AAC audio only', {
    kind: 'error',
    code: 'INVALID_FILE',
    message: /no video stream \(only audio streams\)/,
  });
  run(...source(1), '-frames:v', '0', '-c:v', 'libx264', path('zero_frames.mp4'));
  add('zero_frames.mp4', 'an MP4 written with -frames:v 0', {
    kind: 'error',
    code: 'INVALID_FILE',
    message: /no video stream|no frames/,
  });
  writeFileSync(path('zero_bytes.mp4'), new Uint8Array(0));
  add('zero_bytes.mp4', 'an empty file', { kind: 'error', code: 'INVALID_FILE', message: /0 bytes/ });

  // Animated images: GIF and APNG are videos to FFmpeg; this FFmpeg (4.1) cannot decode animated WebP.
  run(...source(2), path('animated.gif'));
  add('animated.gif', 'an animated GIF (palette frames)', { kind: 'frames', frames: 8, width: 64, height: 48 }, true);
  run(...source(2), '-f', 'apng', '-plays', '0', path('animated.png'));
  add('animated.png', 'an animated PNG', { kind: 'frames', frames: 8, width: 64, height: 48 }, true);
  run(...source(2), '-c:v', 'libwebp', '-loop', '0', path('animated.webp'));
  add('animated.webp', 'an animated WebP', { kind: 'error', code: 'INVALID_FILE', message: /codec parameters/ });

  return { directory, cases, remove: () => rmSync(directory, { recursive: true, force: true }) };
}

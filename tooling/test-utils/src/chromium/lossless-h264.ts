import { execFileSync } from 'node:child_process';

/**
 * Re-encodes a video as lossless H.264 (`-qp 0`, yuv420p, every frame kept), which Chromium's WebCodecs decode: the
 * fixture's MPEG-4 Part 2 video is not among them. Chromium decodes the result within a few levels of FFmpeg's frames.
 *
 * @param ffmpeg the FFmpeg binary (`resolveFfmpegPath()` of `@video-llava/video-processor/node`)
 */
export function transcodeToLosslessH264(ffmpeg: string, input: string, output: string): void {
  execFileSync(ffmpeg, [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', input],
    ...['-c:v', 'libx264', '-qp', '0', '-pix_fmt', 'yuv420p', '-vsync', '0', output],
  ]);
}

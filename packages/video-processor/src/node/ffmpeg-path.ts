import { VideoLlavaError } from '@video-llava/core';

/** The environment variable that points at an FFmpeg binary to use instead of the bundled one. */
export const FFMPEG_PATH_VARIABLE = 'VIDEO_LLAVA_FFMPEG_PATH';

let bundled: Promise<string> | undefined;

async function loadBundledFfmpeg(): Promise<string> {
  try {
    const module = (await import('@ffmpeg-installer/ffmpeg')) as { default?: { path: string }; path?: string };
    const path = module.default?.path ?? module.path;
    if (typeof path !== 'string') throw new Error('@ffmpeg-installer/ffmpeg gave no path');
    return path;
  } catch (cause) {
    throw new VideoLlavaError(
      'UNSUPPORTED',
      `No FFmpeg to decode videos with: install the npm package @ffmpeg-installer/ffmpeg (a static FFmpeg for this platform), ` +
        `or pass ffmpegPath, or set ${FFMPEG_PATH_VARIABLE}. (${cause instanceof Error ? cause.message : String(cause)})`,
      {
        field: 'ffmpegPath',
        expected: '@ffmpeg-installer/ffmpeg installed, or an FFmpeg binary path',
        actual: undefined,
        cause,
      },
    );
  }
}

/**
 * The FFmpeg binary to run: `explicit` when given, else the `VIDEO_LLAVA_FFMPEG_PATH` environment variable, else
 * the static build inside the npm package `@ffmpeg-installer/ffmpeg` (loaded on first use).
 *
 * @throws VideoLlavaError `UNSUPPORTED` when none is available
 */
export async function resolveFfmpegPath(explicit?: string): Promise<string> {
  if (explicit) return explicit;
  const fromEnvironment = process.env[FFMPEG_PATH_VARIABLE];
  if (fromEnvironment) return fromEnvironment;
  bundled ??= loadBundledFfmpeg();
  try {
    return await bundled;
  } catch (error) {
    bundled = undefined;
    throw error;
  }
}

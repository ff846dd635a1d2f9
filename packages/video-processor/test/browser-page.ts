// Bundled by esbuild into the page the browser test opens: exposes the browser loadVideo to playwright.
import { VideoLlavaError } from '@video-llava/core';
import { type BrowserLoadVideoOptions, loadVideo } from '../src/browser.js';

function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (let offset = 0; offset < bytes.length; offset += 0x8000)
    text += String.fromCharCode(...bytes.subarray(offset, offset + 0x8000));
  return btoa(text);
}

async function runLoadVideo(
  url: string,
  options: BrowserLoadVideoOptions,
  as: 'blob' | 'bytes' | 'url',
): Promise<unknown> {
  try {
    let source: Blob | Uint8Array | string = url;
    if (as !== 'url') {
      const blob = await (await fetch(url)).blob();
      source = as === 'blob' ? new File([blob], url.split('/').pop()!) : new Uint8Array(await blob.arrayBuffer());
    }
    const video = await loadVideo(source, options);
    return {
      ok: true,
      file: video.file,
      totalFrames: video.totalFrames,
      indices: video.indices,
      fps: video.fps,
      width: video.width,
      height: video.height,
      dims: video.frames.dims,
      frames: toBase64(video.frames.data as Uint8Array),
      warnings: (video.warnings ?? []).map((warning) => warning.code),
    };
  } catch (error) {
    if (VideoLlavaError.isInstance(error))
      return {
        ok: false,
        code: error.code,
        message: error.message,
        field: error.field,
        file: error.file,
        actual: error.actual,
      };
    return { ok: false, code: 'NOT_A_VIDEO_LLAVA_ERROR', message: String(error) };
  }
}

(globalThis as unknown as { runLoadVideo: typeof runLoadVideo }).runLoadVideo = runLoadVideo;
(globalThis as unknown as { hasWebCodecs: boolean }).hasWebCodecs = typeof VideoDecoder !== 'undefined';

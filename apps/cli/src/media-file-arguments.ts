import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { VideoLlavaError } from '@video-llava/core';
import { sniffImageFormat } from '@video-llava/image-processor/node';

/** What the first bytes of a media file say it is. */
export interface MediaFileKind {
  kind: 'image' | 'video';
  /** The container or format, for messages (`PNG`, `MP4 / QuickTime`, ...). */
  format: string;
  /** Whether the format also holds moving pictures (an animated GIF is an image and a video). */
  animated?: boolean;
}

const ascii = (bytes: Uint8Array, start: number, length: number): string =>
  String.fromCharCode(...bytes.subarray(start, start + length));

/**
 * The kind of a media file from its first bytes (at least 376 for MPEG-TS), or undefined when they match no format
 * this knows (FFmpeg may still read it).
 */
export function sniffMediaFile(bytes: Uint8Array): MediaFileKind | undefined {
  const image = sniffImageFormat(bytes);
  if (image === 'gif') return { kind: 'image', format: 'GIF', animated: true };
  if (image === 'webp') {
    // VP8X with the animation flag: an animated WebP
    const animated = ascii(bytes, 12, 4) === 'VP8X' && (bytes[20]! & 0x02) !== 0;
    return { kind: 'image', format: 'WebP', animated };
  }
  if (image) return { kind: 'image', format: image.toUpperCase() };
  if (ascii(bytes, 0, 2) === 'BM' && bytes.length >= 26) return { kind: 'image', format: 'BMP' };
  if (ascii(bytes, 0, 4) === 'II*\0' || ascii(bytes, 0, 4) === 'MM\0*') return { kind: 'image', format: 'TIFF' };
  if (ascii(bytes, 4, 4) === 'ftyp') return { kind: 'video', format: 'MP4 / QuickTime' };
  if (bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3)
    return { kind: 'video', format: 'Matroska / WebM' };
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'AVI ') return { kind: 'video', format: 'AVI' };
  if (ascii(bytes, 0, 3) === 'FLV') return { kind: 'video', format: 'FLV' };
  if (ascii(bytes, 0, 4) === 'OggS') return { kind: 'video', format: 'Ogg' };
  if (bytes[0] === 0x30 && bytes[1] === 0x26 && bytes[2] === 0xb2 && bytes[3] === 0x75)
    return { kind: 'video', format: 'ASF / WMV' };
  if (bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 1 && bytes[3] === 0xba)
    return { kind: 'video', format: 'MPEG program stream' };
  if (bytes.length >= 377 && bytes[0] === 0x47 && bytes[188] === 0x47 && bytes[376] === 0x47)
    return { kind: 'video', format: 'MPEG transport stream' };
  return undefined;
}

async function readHead(file: string, flag: string): Promise<Uint8Array> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new VideoLlavaError('FILE_NOT_FOUND', `${flag} ${file}: no such file.`, {
        file,
        field: flag,
        expected: 'an existing file',
        actual: 'missing',
        cause: error,
      });
    }
    throw new VideoLlavaError(
      'INVALID_FILE',
      `${flag} ${file}: cannot be read (${code ?? (error as Error).message}).`,
      { file, field: flag, expected: 'a readable file', actual: code, cause: error },
    );
  }
  try {
    if ((await handle.stat()).isDirectory())
      throw new VideoLlavaError('INVALID_FILE', `${flag} ${file} is a folder, not a file.`, {
        file,
        field: flag,
        expected: 'a file',
        actual: 'a folder',
      });
    const head = new Uint8Array(512);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Checks the `--video` and `--image` files before anything loads: each exists and is not obviously of the other
 * kind (a video given as `--image`, a still image given as `--video`; an animated GIF or WebP may be either).
 *
 * @param cwd the folder relative paths resolve against
 * @returns the absolute paths, in the order given
 * @throws VideoLlavaError `FILE_NOT_FOUND` for a missing file, `INVALID_ARGUMENT` for a file of the wrong kind
 */
export async function checkMediaFiles(
  media: { videos: readonly string[]; images: readonly string[] },
  cwd: string,
): Promise<{ videos: string[]; images: string[] }> {
  const check = async (given: string, flag: '--video' | '--image'): Promise<string> => {
    const file = resolve(cwd, given);
    const sniffed = sniffMediaFile(await readHead(file, flag));
    const wanted = flag === '--video' ? 'video' : 'image';
    if (sniffed && sniffed.kind !== wanted && !sniffed.animated) {
      const other = flag === '--video' ? '--image' : '--video';
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `${flag} ${given} is ${sniffed.kind === 'image' ? 'an image' : 'a video'} (${sniffed.format}), not ${wanted === 'image' ? 'an image' : 'a video'}: pass it with ${other}.`,
        {
          file,
          field: flag,
          expected: `a ${wanted} file`,
          actual: `${sniffed.kind} (${sniffed.format})`,
        },
      );
    }
    return file;
  };
  return {
    videos: await Promise.all(media.videos.map((file) => check(file, '--video'))),
    images: await Promise.all(media.images.map((file) => check(file, '--image'))),
  };
}

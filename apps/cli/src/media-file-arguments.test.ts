import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VideoLlavaError } from '@video-llava/core';
import { temporaryFolders, tinyFixture } from '@video-llava/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { checkMediaFiles, sniffMediaFile } from './media-file-arguments.js';

const video = join(tinyFixture.video, 'sample_48f_320x240.mp4');
const folders = temporaryFolders('cli-media-');
afterAll(() => folders.removeAll());

async function rejection(promise: Promise<unknown>): Promise<VideoLlavaError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!VideoLlavaError.isInstance(error)) throw new Error(`expected a VideoLlavaError, got ${String(error)}`);
  return error;
}

describe('sniffMediaFile', () => {
  it('tells the fixture video from the fixture images by their first bytes', async () => {
    expect(sniffMediaFile(await readFile(video))).toEqual({ kind: 'video', format: 'MP4 / QuickTime' });
    const [image] = tinyFixture.json<{ images: string[] }[]>('cases.json').flatMap((fixtureCase) => fixtureCase.images);
    expect(sniffMediaFile(await readFile(join(tinyFixture.images, image!)))).toMatchObject({
      kind: 'image',
      format: 'PNG',
    });
  });

  it('knows the other containers, and says nothing of bytes it does not know', () => {
    const bytes = (text: string): Uint8Array => Uint8Array.from(text, (char) => char.charCodeAt(0));
    expect(sniffMediaFile(bytes('\u001aE\u00df\u00a3rest'))?.format).toBe('Matroska / WebM');
    expect(sniffMediaFile(bytes('RIFF\0\0\0\0AVI LIST'))?.format).toBe('AVI');
    expect(sniffMediaFile(bytes('GIF89a\0\0'))).toEqual({ kind: 'image', format: 'GIF', animated: true });
    expect(sniffMediaFile(bytes('plain text, not media'))).toBeUndefined();
  });
});

describe('checkMediaFiles', () => {
  it('returns absolute paths for files of the right kind', async () => {
    expect(await checkMediaFiles({ videos: ['sample_48f_320x240.mp4'], images: [] }, tinyFixture.video)).toEqual({
      videos: [video],
      images: [],
    });
  });

  it('says a video given as --image is a video, and an image given as --video is an image', async () => {
    const asImage = await rejection(checkMediaFiles({ videos: [], images: [video] }, '/'));
    expect(asImage.code).toBe('INVALID_ARGUMENT');
    expect(asImage.message).toBe(`--image ${video} is a video (MP4 / QuickTime), not an image: pass it with --video.`);
    expect(asImage.field).toBe('--image');
    const png = await folders.place({
      'frame.mp4': await readFile(
        join(tinyFixture.images, tinyFixture.json<{ images: string[] }[]>('cases.json').flatMap((c) => c.images)[0]!),
      ),
    });
    const asVideo = await rejection(checkMediaFiles({ videos: [png('frame.mp4')], images: [] }, '/'));
    expect(asVideo.message).toMatch(/--video .*frame\.mp4 is an image \(PNG\), not a video: pass it with --image\./);
  });

  it('names a missing file and its flag, and a folder given as a file', async () => {
    const missing = await rejection(checkMediaFiles({ videos: ['nope.mp4'], images: [] }, '/tmp'));
    expect(missing.code).toBe('FILE_NOT_FOUND');
    expect(missing.message).toBe('--video /tmp/nope.mp4: no such file.');
    const folder = await rejection(checkMediaFiles({ videos: [], images: [tinyFixture.video] }, '/'));
    expect(folder.message).toContain('is a folder, not a file');
  });

  it('lets through what it cannot tell (FFmpeg may still read it)', async () => {
    const unknown = await folders.place({ 'clip.bin': new Uint8Array(64) });
    await writeFile(unknown('clip.bin'), 'not a known container');
    expect((await checkMediaFiles({ videos: [unknown('clip.bin')], images: [] }, '/')).videos).toHaveLength(1);
  });
});

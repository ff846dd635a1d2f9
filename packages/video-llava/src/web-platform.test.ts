import { describe, expect, it } from 'vitest';
import { webPlatform } from './web-platform.js';

describe('webPlatform', () => {
  it('hands the signal to the video decoder: an aborted request does not start decoding', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(webPlatform.loadVideo(new Uint8Array([0, 0, 0, 24]), { numFrames: 8, signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('hands the signal to the image download', async () => {
    const controller = new AbortController();
    controller.abort();
    // Aborted before any connection is made: nothing is fetched.
    await expect(webPlatform.loadImage('http://127.0.0.1:9/cat.png', { numFrames: 8, signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('refuses what is not a file, URL or bytes', async () => {
    await expect(webPlatform.loadVideo(42, { numFrames: 8 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'videos' });
  });
});

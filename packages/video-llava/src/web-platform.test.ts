import { RawImage } from '@video-llava/image-processor';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { webPlatform } from './web-platform.js';

describe('webPlatform', () => {
  it('hands the signal to the video decoder: an aborted request does not start decoding', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      webPlatform.loadVideo(new Uint8Array([0, 0, 0, 24]), { numFrames: 8, signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('hands the signal to the image download', async () => {
    const controller = new AbortController();
    controller.abort();
    // Aborted before any connection is made: nothing is fetched.
    await expect(
      webPlatform.loadImage('http://127.0.0.1:9/cat.png', { numFrames: 8, signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
  });

  describe('images the browser has drawn', () => {
    afterEach(() => {
      vi.unstubAllGlobals();
    });

    it('are read by the image loader, not taken for a RawImage (they too have a width and a height)', () => {
      // Node.js has no ImageBitmap: a stand-in, looked up by name as in a browser
      class ImageBitmap {
        readonly width = 2;
        readonly height = 1;
      }
      vi.stubGlobal('ImageBitmap', ImageBitmap);
      expect(webPlatform.isMediaFile(new ImageBitmap())).toBe(true);
      expect(webPlatform.isMediaFile(new RawImage(new Uint8Array(6), 2, 1))).toBe(false);
      expect(webPlatform.isMediaFile({ width: 2, height: 1 })).toBe(false);
    });
  });

  it('refuses what is not a file, URL or bytes', async () => {
    await expect(webPlatform.loadVideo(42, { numFrames: 8 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'videos',
    });
  });
});

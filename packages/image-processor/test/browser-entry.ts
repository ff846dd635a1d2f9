// Bundled by the browser test: runs the package's browser surface inside the page and returns plain data.
import type { ImageProcessorConfig } from '@video-llava/config';
import { loadImage } from '../src/browser.js';
import { VideoLlavaImageProcessor, convertToRgb } from '../src/index.js';

/** How the page is given the image. */
export type SourceKind = 'url' | 'blob' | 'bytes' | 'arraybuffer' | 'imagedata';

/** What the page sends back: the decoded image and pixel values (base64), or the error. */
export interface PageResult {
  mode?: string;
  width?: number;
  height?: number;
  dims?: number[];
  rgb?: string;
  pixelValues?: string;
  error?: { code: string; message: string; file?: string; field?: string };
}

function base64(bytes: Uint8Array): string {
  let text = '';
  for (let index = 0; index < bytes.length; index += 0x8000)
    text += String.fromCharCode(...bytes.subarray(index, index + 0x8000));
  return btoa(text);
}

async function run(path: string, kind: SourceKind, config: ImageProcessorConfig | null): Promise<PageResult> {
  try {
    let source: Parameters<typeof loadImage>[0];
    if (kind === 'url') source = path;
    else {
      const response = await fetch(path);
      const blob = await response.blob();
      if (kind === 'blob') source = new File([blob], path.split('/').pop()!, { type: blob.type });
      else if (kind === 'bytes') source = new Uint8Array(await blob.arrayBuffer());
      else if (kind === 'arraybuffer') source = await blob.arrayBuffer();
      else {
        const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
        const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
        const context = canvas.getContext('2d')!;
        context.drawImage(bitmap, 0, 0);
        source = context.getImageData(0, 0, bitmap.width, bitmap.height);
      }
    }
    const image = await loadImage(source, { name: path });
    const result: PageResult = {
      mode: image.mode,
      width: image.width,
      height: image.height,
      rgb: base64(convertToRgb(image).data),
    };
    if (config) {
      const { pixelValues } = new VideoLlavaImageProcessor(config).preprocess(image);
      result.dims = [...pixelValues.dims];
      result.pixelValues = base64(
        new Uint8Array(pixelValues.data.buffer, pixelValues.data.byteOffset, pixelValues.data.byteLength),
      );
    }
    return result;
  } catch (error) {
    const details = error as { code?: string; message?: string; file?: string; field?: string };
    return {
      error: {
        code: details.code ?? 'NOT_A_VIDEO_LLAVA_ERROR',
        message: String(details.message ?? error),
        file: details.file,
        field: details.field,
      },
    };
  }
}

(globalThis as Record<string, unknown>).imageProcessor = { run };

import type { Tensor } from 'video-llava/web';

/** A decoded video: the frames sampled as the checkpoint asks (uint8 RGB `[frames, height, width, 3]`). */
export interface SampledVideo {
  frames: Tensor<'uint8'>;
  indices: number[];
  totalFrames: number;
  fps: number | undefined;
  width: number;
  height: number;
}

/** What the user picked, decoded once: the same frames go into every question about it. */
export type DecodedMedia =
  | { kind: 'video'; name: string; video: SampledVideo }
  | { kind: 'image'; name: string; image: { width: number; height: number } };

const THUMBNAIL_WIDTH = 160;

function figure(canvas: HTMLCanvasElement, caption: string): HTMLElement {
  const item = document.createElement('figure');
  item.className = 'thumbnail';
  const label = document.createElement('figcaption');
  label.textContent = caption;
  item.append(canvas, label);
  return item;
}

function formatTime(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${(seconds - minutes * 60).toFixed(1).padStart(4, '0')}`;
}

/** One thumbnail per sampled frame, captioned with its time (or index) in the video. */
export function drawVideoThumbnails(video: SampledVideo): HTMLElement[] {
  const [count, height, width] = video.frames.dims as [number, number, number, number];
  const scale = THUMBNAIL_WIDTH / width;
  const rgb = video.frames.data;
  return Array.from({ length: count }, (_, frame) => {
    const full = new ImageData(width, height);
    const offset = frame * width * height * 3;
    for (let pixel = 0; pixel < width * height; pixel++) {
      full.data[pixel * 4] = rgb[offset + pixel * 3]!;
      full.data[pixel * 4 + 1] = rgb[offset + pixel * 3 + 1]!;
      full.data[pixel * 4 + 2] = rgb[offset + pixel * 3 + 2]!;
      full.data[pixel * 4 + 3] = 255;
    }
    const source = document.createElement('canvas');
    source.width = width;
    source.height = height;
    source.getContext('2d')!.putImageData(full, 0, 0);
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const context = canvas.getContext('2d')!;
    context.imageSmoothingQuality = 'high';
    context.drawImage(source, 0, 0, canvas.width, canvas.height);
    const index = video.indices[frame] ?? frame;
    return figure(canvas, video.fps ? `${formatTime(index / video.fps)} · #${index}` : `frame ${index}`);
  });
}

/** A thumbnail of an image file. */
export async function drawImageThumbnail(file: Blob, name: string): Promise<HTMLElement> {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, THUMBNAIL_WIDTH / bitmap.width);
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  canvas.getContext('2d')!.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return figure(canvas, name);
}

import { VideoLlavaError } from 'video-llava/web';

/** The largest file a browser is sure to hold in one buffer (ArrayBuffers of 2 GiB fail in several browsers). */
export const LARGEST_BROWSER_FILE = 2 ** 31 - 1;
/** WebAssembly's 32-bit memory: a model on WASM must fit in 4 GiB, with room for activations. */
export const WASM_MEMORY = 4 * 2 ** 30;

function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GB` : `${(bytes / 2 ** 20).toFixed(1)} MB`;
}

/**
 * Why a model cannot be loaded here before its bytes are held: a single file of 2 GiB or more (convert again, which
 * writes external data in chunks below 2 GB), or more weights than WebAssembly's 4 GiB memory.
 */
export function tooBigForBrowser(
  file: string,
  fileBytes: number,
  totalBytes: number,
  device: string,
): string | undefined {
  if (fileBytes >= LARGEST_BROWSER_FILE) {
    return `This model is too big for the browser as converted: ${file} is ${formatBytes(fileBytes)}, and a browser cannot hold one file of 2 GB or more. Convert it again with a current \`video-llava convert\` (it writes the weights in chunks of at most 2 GB: .onnx_data, .onnx_data_1, ...), or choose a smaller dtype (q4).`;
  }
  if (device === 'wasm' && totalBytes > WASM_MEMORY) {
    return `This model is too big for WebAssembly: its files take ${formatBytes(totalBytes)}, and WebAssembly can hold at most 4 GB. Use a smaller dtype (q4), or a browser with WebGPU.`;
  }
  return undefined;
}

/** A message for a failed model load: memory exhaustion says the model is too big, anything else says what failed. */
export function explainLoadError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (
    error instanceof RangeError ||
    /out of memory|bad_alloc|allocation failed|Array buffer allocation|memory access out of bounds|Cannot enlarge memory/i.test(
      message,
    )
  ) {
    return `This model is too big for this browser: it ran out of memory while loading (${message}). Try a smaller dtype (q4), WebGPU, or a desktop browser with more memory.`;
  }
  if (VideoLlavaError.isInstance(error) && error.code === 'FILE_NOT_FOUND')
    return `A file of the model is missing: ${message}`;
  return `The model could not be loaded: ${message}`;
}

/** A message for media the browser cannot decode, naming the file and what would work. */
export function explainMediaError(name: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `Cannot decode ${name}: ${message} This browser decodes H.264, VP8/VP9 and AV1 videos (MP4 or WebM) and PNG, JPEG, WebP or GIF images; convert the file (e.g. \`ffmpeg -i in.mp4 -c:v libx264 out.mp4\`) or pick another one.`;
}

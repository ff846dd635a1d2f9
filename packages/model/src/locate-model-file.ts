import type { ModelSource, ReadOptions } from '@video-llava/config';
import { VideoLlavaError } from '@video-llava/core';
import type { ModelFile } from '@video-llava/runtime';

/** The file `path` of `source` as messages name it (the source's location joined with the path). */
export function joinDescription(source: ModelSource, path: string): string {
  return `${source.description.replace(/\/$/, '')}/${path}`;
}

/**
 * What to hand a backend for the file `path` of a model folder: a local path when the source has one (a folder, a
 * hub cache; native runtimes memory-map it and find external data beside it), else its URL when the source serves
 * over HTTP (the backend downloads and may cache it), else the file's bytes.
 *
 * @throws VideoLlavaError `FILE_NOT_FOUND` naming the file (with a hint to convert the checkpoint)
 */
export async function locateModelFile(source: ModelSource, path: string, options: ReadOptions = {}): Promise<ModelFile> {
  if (typeof source.localPath === 'function') {
    const local = await source.localPath(path, options);
    if (local !== undefined) return local;
    if (!('fileUrl' in source)) {
      const file = joinDescription(source, path);
      throw new VideoLlavaError(
        'FILE_NOT_FOUND',
        `${file} does not exist. A model folder needs the ONNX files of a converted checkpoint (onnx/embed_tokens.onnx, onnx/image_encoder.onnx, onnx/video_encoder.onnx, onnx/decoder_model_merged.onnx, with a suffix for other dtypes): convert a Hugging Face checkpoint with \`video-llava convert\`.`,
        { file, field: 'dtype', expected: 'the ONNX file of the chosen part and dtype', actual: 'missing' },
      );
    }
  }
  const fileUrl = (source as { fileUrl?: unknown }).fileUrl;
  if (typeof fileUrl === 'function') return String(fileUrl.call(source, path));
  return source.readBytes(path, options);
}

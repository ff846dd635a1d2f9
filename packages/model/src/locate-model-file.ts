import type { ModelSource, ReadOptions } from '@video-llava/config';
import { VideoLlavaError } from '@video-llava/core';
import { type ExternalDataFile, type ModelFile, inspectOnnxModel } from '@video-llava/runtime';

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
export async function locateModelFile(
  source: ModelSource,
  path: string,
  options: ReadOptions = {},
): Promise<ModelFile> {
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

/**
 * The external data files of a model file that {@link locateModelFile} gave as bytes (a source with neither local
 * paths nor URLs, such as a folder a user picked in a browser), read from the source beside it: one entry per file
 * the model names, so a chunked layout (`x.onnx_data`, `x.onnx_data_1`, ...) is read file by file, never joined.
 * A path or a URL needs none (the backend finds the files beside it): `undefined`.
 *
 * @throws VideoLlavaError `FILE_NOT_FOUND` naming a missing data file (the source's error)
 */
export async function locateExternalData(
  source: ModelSource,
  path: string,
  file: ModelFile,
  options: ReadOptions = {},
): Promise<ExternalDataFile[] | undefined> {
  if (!(file instanceof Uint8Array || file instanceof ArrayBuffer)) return undefined;
  const names = inspectOnnxModel(file instanceof Uint8Array ? file : new Uint8Array(file))?.externalDataFiles ?? [];
  if (names.length === 0) return undefined;
  const folder = path.slice(0, path.lastIndexOf('/') + 1);
  const files: ExternalDataFile[] = [];
  for (const name of names) files.push({ path: name, data: await source.readBytes(`${folder}${name}`, options) });
  return files;
}

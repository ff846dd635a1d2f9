import type { ModelSource } from '@video-llava/config';
import { VideoLlavaError } from '@video-llava/core';
import { buildConformanceModels } from '@video-llava/runtime/testing';
import { describe, expect, it } from 'vitest';
import { locateExternalData } from './locate-model-file.js';

const models = buildConformanceModels();

/** A source that serves only bytes, from a map of model-folder paths. */
function bytesSource(files: Record<string, Uint8Array>, read: string[] = []): ModelSource {
  return {
    description: 'memory',
    exists: async (path) => path in files,
    readBytes: async (path) => {
      read.push(path);
      const bytes = files[path];
      if (bytes === undefined)
        throw new VideoLlavaError('FILE_NOT_FOUND', `memory/${path} does not exist.`, { file: `memory/${path}` });
      return bytes;
    },
    readText: async (path) => new TextDecoder().decode(files[path]),
  };
}

describe('locateExternalData', () => {
  it('reads every data file a model given as bytes names, beside it in the source', async () => {
    const read: string[] = [];
    const source = bytesSource({ [`onnx/${models.externalDataFileName}`]: models.externalDataFile }, read);
    expect(await locateExternalData(source, 'onnx/external.onnx', models.externalData)).toEqual([
      { path: models.externalDataFileName, data: models.externalDataFile },
    ]);
    expect(read).toEqual([`onnx/${models.externalDataFileName}`]);
  });

  it('needs nothing for a path or URL (the backend finds the files) or a model without external data', async () => {
    const read: string[] = [];
    const source = bytesSource({}, read);
    expect(await locateExternalData(source, 'onnx/external.onnx', '/models/onnx/external.onnx')).toBeUndefined();
    expect(await locateExternalData(source, 'onnx/matmul.onnx', models.matmul)).toBeUndefined();
    expect(read).toEqual([]);
  });

  it('passes on the source error naming a missing data file', async () => {
    await expect(locateExternalData(bytesSource({}), 'onnx/external.onnx', models.externalData)).rejects.toMatchObject({
      code: 'FILE_NOT_FOUND',
      file: `memory/onnx/${models.externalDataFileName}`,
    });
  });
});

import { VideoLlavaError } from '@video-llava/core';
import { describe, expect, it } from 'vitest';
import { normalizeExternalData } from './normalize-external-data.js';

describe('normalizeExternalData', () => {
  it('turns names into entries and keeps entries as they are', () => {
    const bytes = new Uint8Array(2);
    expect(normalizeExternalData(undefined)).toEqual([]);
    expect(normalizeExternalData(['a.onnx_data', { path: 'b.bin', data: bytes }])).toEqual([
      { path: 'a.onnx_data' },
      { path: 'b.bin', data: bytes },
    ]);
  });

  it('INVALID_ARGUMENT naming the entry without a file name', () => {
    let caught: unknown;
    try {
      normalizeExternalData(['a.onnx_data', { path: '' }]);
    } catch (error) {
      caught = error;
    }
    expect(VideoLlavaError.isInstance(caught) && [caught.code, caught.field]).toEqual([
      'INVALID_ARGUMENT',
      'options.externalData[1]',
    ]);
  });
});

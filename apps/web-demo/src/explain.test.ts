import { VideoLlavaError } from 'video-llava/web';
import { describe, expect, it } from 'vitest';
import { LARGEST_BROWSER_FILE, WASM_MEMORY, explainLoadError, explainMediaError, tooBigForBrowser } from './explain.js';

describe('tooBigForBrowser', () => {
  it('refuses one file of 2 GiB or more, saying to convert again into chunks', () => {
    expect(
      tooBigForBrowser('onnx/decoder_model_merged.onnx_data', LARGEST_BROWSER_FILE, LARGEST_BROWSER_FILE, 'webgpu'),
    ).toMatch(
      /onnx\/decoder_model_merged\.onnx_data is 2\.00 GB, and a browser cannot hold one file of 2 GB or more\. Convert it again .*\.onnx_data_1/,
    );
    expect(
      tooBigForBrowser(
        'onnx/decoder_model_merged.onnx_data',
        LARGEST_BROWSER_FILE - 1,
        LARGEST_BROWSER_FILE - 1,
        'webgpu',
      ),
    ).toBeUndefined();
  });

  it('refuses more than 4 GB of files on WebAssembly only', () => {
    expect(tooBigForBrowser('onnx/x.onnx_data_3', 2 ** 30, WASM_MEMORY + 1, 'wasm')).toMatch(
      /too big for WebAssembly: its files take 4\.00 GB.*at most 4 GB/,
    );
    expect(tooBigForBrowser('onnx/x.onnx_data_3', 2 ** 30, WASM_MEMORY + 1, 'webgpu')).toBeUndefined();
    expect(tooBigForBrowser('onnx/x.onnx_data_3', 2 ** 30, WASM_MEMORY, 'wasm')).toBeUndefined();
  });
});

describe('explainLoadError', () => {
  it('calls running out of memory a model too big for the browser', () => {
    expect(explainLoadError(new RangeError('Array buffer allocation failed'))).toMatch(
      /^This model is too big for this browser: it ran out of memory/,
    );
    expect(explainLoadError(new Error('failed to allocate a buffer: std::bad_alloc'))).toMatch(
      /too big for this browser/,
    );
  });

  it('names a missing file, and passes other errors on', () => {
    const missing = new VideoLlavaError(
      'FILE_NOT_FOUND',
      'https://x/onnx/embed_tokens.onnx does not exist (HTTP 404).',
      { file: 'https://x/onnx/embed_tokens.onnx' },
    );
    expect(explainLoadError(missing)).toBe(
      'A file of the model is missing: https://x/onnx/embed_tokens.onnx does not exist (HTTP 404).',
    );
    expect(explainLoadError(new Error('boom'))).toBe('The model could not be loaded: boom');
  });
});

describe('explainMediaError', () => {
  it('names the file and what the browser decodes', () => {
    expect(explainMediaError('clip.avi', new Error('no decoder for mp4v.'))).toMatch(
      /^Cannot decode clip\.avi: no decoder for mp4v\. This browser decodes H\.264/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { modelRelativeName } from './model-sessions.js';

describe('modelRelativeName (progress names files relative to the model folder)', () => {
  const path = 'onnx/decoder_model_merged.onnx';

  it('names the located file by its model path, whether a URL or an absolute path', () => {
    expect(
      modelRelativeName(
        'https://host/m/onnx/decoder_model_merged.onnx',
        'https://host/m/onnx/decoder_model_merged.onnx',
        path,
      ),
    ).toBe(path);
    expect(
      modelRelativeName('/models/m/onnx/decoder_model_merged.onnx', '/models/m/onnx/decoder_model_merged.onnx', path),
    ).toBe(path);
  });

  it('names a file beside it (external data) by its sibling path', () => {
    expect(
      modelRelativeName(
        'https://host/m/onnx/decoder_model_merged.onnx_data',
        'https://host/m/onnx/decoder_model_merged.onnx',
        path,
      ),
    ).toBe('onnx/decoder_model_merged.onnx_data');
    expect(modelRelativeName('C:\\m\\onnx\\x.onnx_data', 'C:\\m\\onnx\\decoder_model_merged.onnx', path)).toBe(
      'onnx/x.onnx_data',
    );
  });

  it('keeps names it cannot place, and uses the path when nothing is named', () => {
    expect(modelRelativeName('https://other/x.bin', 'https://host/m/onnx/decoder_model_merged.onnx', path)).toBe(
      'https://other/x.bin',
    );
    expect(modelRelativeName('config.json', undefined, path)).toBe('config.json');
    expect(modelRelativeName(undefined, undefined, path)).toBe(path);
    expect(modelRelativeName('blob', new Uint8Array(1), path)).toBe('blob');
  });
});

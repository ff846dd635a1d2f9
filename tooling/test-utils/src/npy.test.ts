import { Tensor } from '@video-llava/core';
import { describe, expect, it } from 'vitest';
import { assertClose, parseNpy, serializeNpy, tinyFixture } from './index.js';

describe('.npy', () => {
  it('round-trips every supported dtype', () => {
    const tensors = [
      new Tensor('float32', new Float32Array([1.5, -2, 3.25, 0, 1e-7, 9]), [2, 3]),
      new Tensor('float16', new Uint16Array([0x3c00, 0xc000]), [2]),
      new Tensor('int64', new BigInt64Array([1n, -2n, 32001n]), [1, 3]),
      new Tensor('uint8', new Uint8Array([0, 255, 7, 8]), [2, 2, 1]),
      new Tensor('bool', new Uint8Array([1, 0, 1]), [3]),
    ];
    for (const tensor of tensors) {
      const back = parseNpy(serializeNpy(tensor));
      expect(back.dtype).toBe(tensor.dtype);
      expect(back.dims).toEqual(tensor.dims);
      expect([...(back.data as ArrayLike<unknown> as unknown[])]).toEqual([
        ...(tensor.data as ArrayLike<unknown> as unknown[]),
      ]);
    }
  });

  it('reads the reference fixtures written by NumPy', () => {
    const pixels = tinyFixture.npy('pixel_values', 'square_224.png.npy');
    expect(pixels.dtype).toBe('float32');
    expect(pixels.dims).toEqual([1, 3, 224, 224]);
    const ids = tinyFixture.npy('case_text_only', 'input_ids.npy');
    expect(ids.dtype).toBe('int64');
    expect(ids.dims).toEqual([1, 16]);
    expect(ids.data[0]).toBe(1n);
  });

  it('refuses Fortran order and unknown dtypes, naming the field', () => {
    const good = serializeNpy(new Tensor('float32', new Float32Array(4), [2, 2]));
    // Edit the header byte for byte: a TextEncoder round trip would re-encode the \x93 magic byte as UTF-8.
    const text = Array.from(good, (byte) => String.fromCharCode(byte)).join('');
    const bytesOf = (edited: string) => Uint8Array.from(edited, (character) => character.charCodeAt(0));
    const fortran = bytesOf(text.replace("'fortran_order': False", "'fortran_order': True "));
    expect(() => parseNpy(fortran, 'x.npy')).toThrowError(/x\.npy: \.npy fortran_order should be False/);
    const complex = bytesOf(text.replace("'<f4'", "'<c8'"));
    expect(() => parseNpy(complex, 'y.npy')).toThrowError(/y\.npy: \.npy descr should be .* found <c8/);
    expect(() => parseNpy(new Uint8Array([1, 2, 3]), 'z.npy')).toThrowError(/magic/);
  });
});

describe('assertClose', () => {
  it('passes within tolerance and reports where it fails', () => {
    const expected = new Tensor('float32', new Float32Array([0, 1, 2, 3]), [2, 2]);
    const near = new Tensor('float32', new Float32Array([0, 1.00001, 2, 3]), [2, 2]);
    expect(assertClose(near, expected, 1e-4).maxAbsDifference).toBeGreaterThan(0);
    const far = new Tensor('float32', new Float32Array([0, 1, 2, 3.5]), [2, 2]);
    expect(() => assertClose(far, expected, 1e-4, 'logits')).toThrowError(
      /logits: max abs difference 0\.5 > tolerance 0\.0001 at index 3 \[1,1\]/,
    );
  });
});

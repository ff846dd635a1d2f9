import { RawImage } from './raw-image.js';

/**
 * PIL's `image.convert("RGB")`, which transformers' `convert_to_rgb` calls:
 * - `RGB`: returned as is (the same object);
 * - `L`: the grey value in all three channels;
 * - `LA`: the same, alpha dropped;
 * - `RGBA`: alpha dropped, not composited on any background (a transparent pixel keeps its colour);
 * - `P`: each index looked up in the palette (indices past the palette's entries are black); a transparent
 *   palette entry keeps its colour.
 *
 * @param image any {@link RawImage}
 * @returns an `RGB` image of the same size
 */
export function convertToRgb(image: RawImage): RawImage {
  if (image.mode === 'RGB') return image;
  const pixels = image.width * image.height;
  const out = new Uint8Array(pixels * 3);
  const data = image.data;
  switch (image.mode) {
    case 'L':
      for (let index = 0; index < pixels; index++) {
        const value = data[index]!;
        out[index * 3] = value;
        out[index * 3 + 1] = value;
        out[index * 3 + 2] = value;
      }
      break;
    case 'LA':
      for (let index = 0; index < pixels; index++) {
        const value = data[index * 2]!;
        out[index * 3] = value;
        out[index * 3 + 1] = value;
        out[index * 3 + 2] = value;
      }
      break;
    case 'RGBA':
      for (let index = 0; index < pixels; index++) {
        out[index * 3] = data[index * 4]!;
        out[index * 3 + 1] = data[index * 4 + 1]!;
        out[index * 3 + 2] = data[index * 4 + 2]!;
      }
      break;
    case 'P': {
      const palette = image.palette!;
      for (let index = 0; index < pixels; index++) {
        const entry = data[index]! * 3;
        out[index * 3] = palette[entry]!;
        out[index * 3 + 1] = palette[entry + 1]!;
        out[index * 3 + 2] = palette[entry + 2]!;
      }
      break;
    }
  }
  return new RawImage(out, image.width, image.height, 'RGB');
}

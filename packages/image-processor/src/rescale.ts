/**
 * transformers' `rescale` (NumPy): each value times `factor` in double precision, then rounded to float32
 * (`image.astype(np.float64) * scale` then `.astype(np.float32)`).
 *
 * @param values the pixels (uint8 or float)
 * @param factor the processor's `rescale_factor`, e.g. `1 / 255`
 * @returns a new Float32Array in the same order
 */
export function rescale(values: ArrayLike<number>, factor: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let index = 0; index < values.length; index++) out[index] = values[index]! * factor;
  return out;
}

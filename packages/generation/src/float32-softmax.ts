// float32 softmax and log-softmax in the order of operations of PyTorch's CPU kernels
// (`_vec_softmax_lastdim` / `_vec_log_softmax_lastdim`): subtract the row maximum in float32, sum the
// exponentials, then scale (softmax) or subtract the log of the sum (log-softmax), rounding to float32 after each
// operation. The sum is accumulated in float64 and rounded once: PyTorch sums in float32 vector lanes, so the two
// can differ in the last bit of the sum; the results agree to within one float32 ulp.

/** The row's maximum; NaN when the row holds a NaN (so that NaN propagates as in PyTorch). */
function rowMaximum(row: Float32Array): number {
  let maximum = -Infinity;
  for (let index = 0; index < row.length; index++) {
    const value = row[index]!;
    if (value > maximum || Number.isNaN(value)) maximum = value;
  }
  return maximum;
}

/**
 * Softmax of `row` into `target` (same length), float32 like `torch.softmax(x, dim=-1)`.
 * A row that is entirely `-Infinity` gives NaN, as in PyTorch.
 *
 * @returns the largest probability
 */
export function softmaxInto(row: Float32Array, target: Float32Array): number {
  const length = row.length;
  const maximum = rowMaximum(row);
  let sum = 0;
  for (let index = 0; index < length; index++) {
    // Float32Array stores round to float32: exp(fround(x - max)) is rounded once on the way in.
    target[index] = Math.exp(Math.fround(row[index]! - maximum));
    sum += target[index]!;
  }
  const inverse = Math.fround(1 / Math.fround(sum));
  let largest = 0;
  for (let index = 0; index < length; index++) {
    target[index] = target[index]! * inverse;
    if (target[index]! > largest) largest = target[index]!;
  }
  return largest;
}

/**
 * Log-softmax of `row` into `target` (same length), float32 like `torch.nn.functional.log_softmax(x, dim=-1)`:
 * `(x - max) - log(sum(exp(x - max)))`.
 */
export function logSoftmaxInto(row: Float32Array, target: Float32Array): void {
  const length = row.length;
  const maximum = rowMaximum(row);
  let sum = 0;
  for (let index = 0; index < length; index++) sum += Math.fround(Math.exp(Math.fround(row[index]! - maximum)));
  const logSum = Math.fround(Math.log(Math.fround(sum)));
  for (let index = 0; index < length; index++) target[index] = Math.fround(row[index]! - maximum) - logSum;
}

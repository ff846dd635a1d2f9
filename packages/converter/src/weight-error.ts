/** How far stored weights are from the checkpoint's: accumulated while converting. */
export class WeightError {
  /** Largest absolute difference of any weight. */
  maxAbsError = 0;
  private sumSquaredError = 0;
  private sumSquared = 0;
  /** Weights compared. */
  count = 0;

  /** Adds one weight and what was stored for it. */
  add(original: number, stored: number): void {
    const difference = Math.abs(original - stored);
    if (difference > this.maxAbsError) this.maxAbsError = difference;
    this.sumSquaredError += difference * difference;
    this.sumSquared += original * original;
    this.count++;
  }

  /** Folds another accumulator into this one. */
  merge(other: WeightError): void {
    this.maxAbsError = Math.max(this.maxAbsError, other.maxAbsError);
    this.sumSquaredError += other.sumSquaredError;
    this.sumSquared += other.sumSquared;
    this.count += other.count;
  }

  /** sqrt(sum of squared errors / sum of squared weights): 0 for an exact copy. */
  get relativeRmsError(): number {
    return this.sumSquared === 0 ? 0 : Math.sqrt(this.sumSquaredError / this.sumSquared);
  }
}

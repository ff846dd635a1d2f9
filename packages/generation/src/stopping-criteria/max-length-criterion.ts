import type { StoppingCriterion } from './stopping-criterion.js';

/** transformers' `MaxLengthCriteria`: every row is done once the total length (prompt included) reaches `maxLength`. */
export class MaxLengthCriterion implements StoppingCriterion {
  readonly reason = 'length' as const;

  /** @param maxLength total length, prompt included */
  constructor(readonly maxLength: number) {}

  check(inputIds: readonly Int32Array[], done: Uint8Array): void {
    for (let row = 0; row < inputIds.length; row++) if (inputIds[row]!.length >= this.maxLength) done[row] = 1;
  }
}

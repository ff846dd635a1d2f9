import type { StoppingCriterion } from './stopping-criterion.js';

/** transformers' `EosTokenCriteria`: a row is done when its last token is one of the end-of-sequence ids. */
export class EosTokenCriterion implements StoppingCriterion {
  readonly reason = 'eos' as const;
  private readonly eos: Set<number>;

  /** @param eosTokenIds the end-of-sequence ids */
  constructor(eosTokenIds: readonly number[]) {
    this.eos = new Set(eosTokenIds);
  }

  check(inputIds: readonly Int32Array[], done: Uint8Array): void {
    for (let row = 0; row < inputIds.length; row++) {
      const ids = inputIds[row]!;
      if (ids.length > 0 && this.eos.has(ids[ids.length - 1]!)) done[row] = 1;
    }
  }
}

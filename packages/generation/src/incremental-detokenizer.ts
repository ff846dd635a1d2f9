/**
 * Turns a stream of token ids into text as it grows, for streaming. The tokenizer package provides one; this
 * package needs no tokenizer. One instance serves one sequence.
 *
 * It receives every real token of its sequence, end-of-sequence ids included (skip special tokens inside if you
 * want them out of the text), never the padding that follows the end.
 */
export interface IncrementalDetokenizer {
  /** Adds a token; returns the text that is now final (may be `''` while a multi-byte character is incomplete). */
  push(tokenId: number): string;
  /** The sequence ended: returns whatever text is still pending. */
  flush(): string;
}

/** Makes the detokenizer of one returned sequence. */
export type CreateDetokenizer = (sequence: number) => IncrementalDetokenizer;

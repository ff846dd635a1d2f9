/** Options of `Tokenizer.decode` and of a `TokenStreamDecoder`. */
export interface DecodeOptions {
  /**
   * Drop special tokens (`<s>`, `</s>`, `<image>`, `<video>`, `<pad>`, ...), like transformers' `skip_special_tokens`.
   * @default false
   */
  skipSpecialTokens?: boolean;
  /**
   * Remove spaces before punctuation and contractions (transformers' `clean_up_tokenization_spaces`).
   * @default the checkpoint's `clean_up_tokenization_spaces` (false for LLaMA)
   */
  cleanUpTokenizationSpaces?: boolean;
}

/** Splits one section of text (between added tokens) into the words that BPE sees. */
export type PreTokenizeFunction = (text: string, options?: { section_index?: number }) => string[];

/**
 * The SentencePiece `Metaspace` pre-tokenizer exactly as the Rust `tokenizers` library runs it: spaces become
 * the replacement character (`▁`), a `▁` is prepended (`always`; `first`: only to the section that starts the text;
 * `never`), and with `split` (the Rust default) each `▁` starts a new word (MergedWithNext), so merges never
 * cross words. `@huggingface/tokenizers` 0.2.0 ignores `split`, which changes ids on text with runs of spaces.
 *
 * @param config the `pre_tokenizer` object of `tokenizer.json` (`type: "Metaspace"`)
 */
export function createMetaspacePreTokenizer(config: Record<string, unknown>): PreTokenizeFunction {
  const replacement =
    typeof config['replacement'] === 'string' && config['replacement'].length > 0 ? config['replacement'] : '\u2581';
  // Files written before tokenizers 0.19 say add_prefix_space instead of prepend_scheme.
  const scheme =
    typeof config['prepend_scheme'] === 'string'
      ? config['prepend_scheme']
      : config['add_prefix_space'] === false
        ? 'never'
        : 'always';
  const split = config['split'] !== false;
  return (text, options = {}) => {
    let normalized = text.replaceAll(' ', replacement);
    const prepend = scheme === 'always' || (scheme === 'first' && options.section_index === 0);
    if (prepend && !normalized.startsWith(replacement)) normalized = replacement + normalized;
    if (!split) return [normalized];
    const words: string[] = [];
    let start = 0;
    let index = normalized.indexOf(replacement, 1);
    while (index !== -1) {
      words.push(normalized.slice(start, index));
      start = index;
      index = normalized.indexOf(replacement, index + replacement.length);
    }
    words.push(normalized.slice(start));
    return words.filter((word) => word.length > 0);
  };
}

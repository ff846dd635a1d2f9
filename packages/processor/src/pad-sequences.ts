import { Tensor, VideoLlavaError } from '@video-llava/core';

/** How a batch is padded (transformers' `padding`): `true`/`'longest'`, `'max_length'`, or `false`/`'do_not_pad'`. */
export type PaddingStrategy = boolean | 'longest' | 'max_length' | 'do_not_pad';

/** Options of {@link padSequences}. */
export interface PadSequencesOptions {
  /** The strategy. */
  padding: PaddingStrategy;
  /** The length `'max_length'` pads to. */
  maxLength?: number;
  /** The pad id; null when the tokenizer has none (an error only if padding is actually needed). */
  padTokenId: number | null;
  /** Where the pad ids go. */
  paddingSide: 'left' | 'right';
  /** The tokenizer file, named in the error about a missing pad token. */
  tokenizerFile?: string;
}

/** `input_ids` and `attention_mask` as int64 `[batch, length]` tensors. */
export interface PaddedBatch {
  inputIds: Tensor<'int64'>;
  attentionMask: Tensor<'int64'>;
}

/**
 * Stacks token sequences into `input_ids` and `attention_mask`, padding with the pad id on `paddingSide`
 * (left for LLaMA, so that generation continues right after each prompt). The mask is 0 on padding, 1 elsewhere.
 *
 * @throws VideoLlavaError `INVALID_ARGUMENT` when the lengths differ and padding is off, or a sequence is longer than
 *   `maxLength`; `INVALID_CONFIG` when padding is needed but the tokenizer has no pad token
 */
export function padSequences(sequences: readonly (readonly number[])[], options: PadSequencesOptions): PaddedBatch {
  const lengths = sequences.map((ids) => ids.length);
  const longest = Math.max(0, ...lengths);
  let target = longest;
  if (options.padding === 'max_length') {
    const maxLength = options.maxLength;
    if (maxLength === undefined || !Number.isSafeInteger(maxLength) || maxLength < 1) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `padding: "max_length" needs maxLength, a positive integer; found ${String(maxLength)}.`,
        {
          field: 'maxLength',
          expected: 'a positive integer',
          actual: maxLength,
        },
      );
    }
    const tooLong = lengths.findIndex((length) => length > maxLength);
    if (tooLong !== -1) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `text[${tooLong}] is ${lengths[tooLong]} tokens after expanding <image>/<video>, longer than maxLength ${maxLength} (truncation would cut the prompt).`,
        {
          field: `text[${tooLong}]`,
          expected: `at most ${maxLength} tokens`,
          actual: lengths[tooLong],
        },
      );
    }
    target = maxLength;
  } else if (options.padding === false || options.padding === 'do_not_pad') {
    const different = lengths.findIndex((length) => length !== longest);
    if (different !== -1) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `The prompts have different lengths (${lengths.join(', ')} tokens) and padding is off, so they cannot form one batch: pass padding: true.`,
        { field: 'padding', expected: 'true when the prompts differ in length', actual: options.padding },
      );
    }
  }
  const needsPadding = lengths.some((length) => length !== target);
  if (needsPadding && options.padTokenId === null) {
    const file = options.tokenizerFile ?? 'tokenizer_config.json';
    throw new VideoLlavaError(
      'INVALID_CONFIG',
      `${file}: the tokenizer has no pad_token, so prompts of different lengths (${lengths.join(', ')}) cannot be padded.`,
      {
        file,
        field: 'pad_token',
        expected: 'a pad token',
        actual: null,
      },
    );
  }
  const padId = BigInt(options.padTokenId ?? 0);
  const inputIds = new BigInt64Array(sequences.length * target);
  const attentionMask = new BigInt64Array(sequences.length * target);
  sequences.forEach((ids, row) => {
    const offset = row * target + (options.paddingSide === 'left' ? target - ids.length : 0);
    inputIds.fill(padId, row * target, (row + 1) * target);
    ids.forEach((id, index) => {
      inputIds[offset + index] = BigInt(id);
      attentionMask[offset + index] = 1n;
    });
  });
  return {
    inputIds: new Tensor('int64', inputIds, [sequences.length, target]),
    attentionMask: new Tensor('int64', attentionMask, [sequences.length, target]),
  };
}

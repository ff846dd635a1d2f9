import { VideoLlavaError } from '@video-llava/core';

/** What {@link expandMediaTokens} needs to know. */
export interface MediaExpansion {
  /** The tokenized prompts (one per batch entry), each `<image>` / `<video>` still a single id. */
  sequences: readonly (readonly number[])[];
  /** The id of the image placeholder (`image_token_index`). */
  imageTokenId: number;
  /** The id of the video placeholder (`video_token_index`). */
  videoTokenId: number;
  /** The placeholders' text, for messages. */
  imageToken: string;
  videoToken: string;
  /** How many images were given (all prompts together, consumed in order). */
  imageCount: number;
  /** How many ids each image becomes (`tokensPerImage` of the config). */
  tokensPerImage: number;
  /** How many ids each video becomes, one entry per video in order (`tokensPerFrame` x its frames). */
  videoTokenCounts: readonly number[];
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function checkCount(kind: 'image' | 'video', token: string, tokens: number, given: number, perPrompt: number[]): void {
  if (tokens === given) return;
  const where = perPrompt.length > 1 ? ` (per prompt: ${perPrompt.join(', ')})` : '';
  const field = kind === 'image' ? 'images' : 'videos';
  const message =
    given === 0
      ? `The text has ${plural(tokens, `${token} token`)}${where} but no ${field} were given: pass ${tokens === 1 ? `one ${kind}` : `${tokens} ${field}`} in "${field}" (or pixelValues${kind === 'image' ? 'Images' : 'Videos'}), or remove the ${token} tokens.`
      : tokens === 0
        ? `${plural(given, kind)} ${given === 1 ? 'was' : 'were'} given but the text has no ${token} token: put one ${token} in the prompt where each ${kind} belongs (e.g. "USER: ${token}\\n... ASSISTANT:").`
        : `The text has ${plural(tokens, `${token} token`)}${where} but ${plural(given, kind)} ${given === 1 ? 'was' : 'were'} given: each ${token} token takes exactly one ${kind}, in order.`;
  throw new VideoLlavaError('TOKEN_COUNT_MISMATCH', message, {
    field: tokens === 0 || given > tokens ? field : 'text',
    expected: `${plural(tokens, `${token} token`)} and as many ${field}`,
    actual: { tokens, [field]: given },
  });
}

/**
 * Replaces each `<image>` id by `tokensPerImage` copies and each `<video>` id by its video's count, as transformers'
 * `VideoLlavaProcessor` does with the prompt text. Unlike the reference, every mismatch is an error that names the
 * counts: placeholders without media (the reference runs on silently), more placeholders than media (a bare
 * `StopIteration` there), media without placeholders (the reference fails later, inside the model).
 *
 * @throws VideoLlavaError `TOKEN_COUNT_MISMATCH` with `actual` holding both counts
 */
export function expandMediaTokens(expansion: MediaExpansion): number[][] {
  const { sequences, imageTokenId, videoTokenId } = expansion;
  const imagesPerPrompt = sequences.map((ids) => ids.reduce((count, id) => count + (id === imageTokenId ? 1 : 0), 0));
  const videosPerPrompt = sequences.map((ids) => ids.reduce((count, id) => count + (id === videoTokenId ? 1 : 0), 0));
  const imageTokens = imagesPerPrompt.reduce((sum, count) => sum + count, 0);
  const videoTokens = videosPerPrompt.reduce((sum, count) => sum + count, 0);
  checkCount('image', expansion.imageToken, imageTokens, expansion.imageCount, imagesPerPrompt);
  checkCount('video', expansion.videoToken, videoTokens, expansion.videoTokenCounts.length, videosPerPrompt);
  if (imageTokens === 0 && videoTokens === 0) return sequences.map((ids) => [...ids]);

  let videoIndex = 0;
  return sequences.map((ids) => {
    const expanded: number[] = [];
    for (const id of ids) {
      const copies =
        id === imageTokenId
          ? expansion.tokensPerImage
          : id === videoTokenId
            ? expansion.videoTokenCounts[videoIndex++]!
            : 1;
      for (let copy = 0; copy < copies; copy++) expanded.push(id);
    }
    return expanded;
  });
}

import type { ChatMessage } from './chat-message.js';

/**
 * A prompt whose user-typed text is marked, so that what the user typed stays text: a `<video>`, `<image>`, `</s>`
 * or any other added-token string inside {@link literalRanges} is tokenized as the characters it is (as
 * transformers' `split_special_tokens=True` would), never as the special token. Only the placeholders the app (the
 * chat template, from `{type: 'video'}` / `{type: 'image'}` parts) put outside those ranges are placeholders.
 *
 * Made by `VideoLlavaProcessor.applyChatTemplateAsPrompt`; the processor and `Tokenizer.encode` take it wherever
 * they take a string. Without a special-token string inside a literal range it tokenizes exactly as `text`.
 */
export interface PromptText {
  /** The prompt, exactly as `applyChatTemplate` returns it. */
  readonly text: string;
  /**
   * `[start, end)` ranges of {@link text} (UTF-16 indices, ascending, disjoint) that are the user's own text: an
   * added-token string overlapping one is text. `applyChatTemplateAsPrompt` marks the special-token strings the user
   * typed (the rest of the user's text tokenizes the same either way).
   */
  readonly literalRanges: ReadonlyArray<readonly [number, number]>;
}

/** Whether `value` is a {@link PromptText}. */
export function isPromptText(value: unknown): value is PromptText {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { text?: unknown }).text === 'string' &&
    Array.isArray((value as { literalRanges?: unknown }).literalRanges)
  );
}

// Private-use characters: they mark the user's special-token strings through the template, and name the app's
// special tokens for the tokenizer that matches only those. The user's own private-use characters of these three
// code points become U+FFFD, so that no text can forge a mark.
const OPEN = '\uE001';
const CLOSE = '\uE002';
/** The character the tokenizer's private added-token strings are made of (see `Tokenizer`). */
export const PRIVATE_TOKEN_MARK = '\uE000';
const FORGED = /[\uE000\uE001\uE002]/g;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A pattern matching any of `strings`, longest first (as added tokens are matched). */
export function alternation(strings: readonly string[]): RegExp | undefined {
  const unique = [...new Set(strings.filter((text) => text.length > 0))].sort((a, b) => b.length - a.length);
  return unique.length === 0 ? undefined : new RegExp(unique.map(escapeRegExp).join('|'), 'g');
}

function markText(text: string, pattern: RegExp | undefined): string {
  const clean = text.replace(FORGED, '\uFFFD');
  return pattern ? clean.replace(pattern, (match) => `${OPEN}${match}${CLOSE}`) : clean;
}

/**
 * The messages with every special-token string inside their text (string content and `text` parts) wrapped in
 * private marks that survive a chat template; {@link collectLiteralRanges} turns the rendered prompt back into a
 * {@link PromptText}.
 */
export function markLiteralText(messages: readonly ChatMessage[], specialStrings: readonly string[]): ChatMessage[] {
  const pattern = alternation(specialStrings);
  return messages.map((message) => {
    if (typeof message !== 'object' || message === null) return message;
    if (typeof message.content === 'string') return { ...message, content: markText(message.content, pattern) };
    if (!Array.isArray(message.content)) return message;
    return {
      ...message,
      content: message.content.map((part) =>
        typeof part === 'object' && part !== null && part.type === 'text' && typeof part.text === 'string'
          ? { ...part, text: markText(part.text, pattern) }
          : part,
      ),
    };
  });
}

/** Removes the marks of {@link markLiteralText} from a rendered prompt, recording where the marked strings are. */
export function collectLiteralRanges(rendered: string): PromptText {
  let text = '';
  const literalRanges: Array<[number, number]> = [];
  let open: number | undefined;
  for (const character of rendered) {
    if (character === OPEN) open = text.length;
    else if (character === CLOSE) {
      if (open !== undefined && text.length > open) literalRanges.push([open, text.length]);
      open = undefined;
    } else text += character;
  }
  return { text, literalRanges };
}

import type { DecodeOptions } from './decode-options.js';
import { byteOfToken } from './token-decoder.js';

/**
 * What a {@link TokenStreamDecoder} asks of its tokenizer (`Tokenizer` implements it): a type of its own so that
 * this file does not import the tokenizer that creates stream decoders.
 */
export interface StreamDecodingTokenizer {
  decode(ids: ArrayLike<number | bigint>, options?: DecodeOptions): string;
  idToToken(id: number): string | undefined;
  isSpecialId(id: number): boolean;
  readonly byteFallback: boolean;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function isIncompleteUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return false;
  } catch {
    // Invalid for good (never becomes valid) or merely cut short: only the second is worth waiting for.
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Decodes generated ids one at a time for streaming. What it returns, concatenated, equals
 * `tokenizer.decode(allIds, options)` (except where `cleanUpTokenizationSpaces` rewrites text already returned):
 * - a character spelled by byte-fallback tokens (`<0xE6>` `<0x97>` `<0xA5>` = "日") is held until its last byte
 *   arrives, so no half UTF-8 character is ever returned; bytes that can never form a character come out as U+FFFD;
 * - the SentencePiece leading space: the first token of the stream loses its leading "▁" (like transformers'
 *   `TextStreamer`, which decodes the generated ids on their own), later tokens keep theirs. Unlike `TextStreamer`,
 *   which restarts after a newline, the space of a word that follows a newline is kept, as `decode` keeps it.
 *
 * @example
 * ```ts
 * const stream = tokenizer.createStreamDecoder({ skipSpecialTokens: true });
 * for (const id of generatedIds) process.stdout.write(stream.push(id));
 * process.stdout.write(stream.flush());
 * ```
 */
export class TokenStreamDecoder {
  private readonly tokenizer: StreamDecodingTokenizer;
  private readonly options: DecodeOptions;
  // The ids whose text was returned last, kept as left context so the next token's leading space survives.
  private context: number[] = [];
  private contextText = '';
  private pending: number[] = [];

  constructor(tokenizer: StreamDecodingTokenizer, options: DecodeOptions = {}) {
    this.tokenizer = tokenizer;
    this.options = options;
  }

  /**
   * Adds the next id (or ids) and returns the text that is now final (often `''` while a character is incomplete).
   */
  push(ids: number | bigint | ArrayLike<number | bigint>): string {
    if (typeof ids === 'number' || typeof ids === 'bigint') return this.pushOne(Number(ids));
    let text = '';
    for (let index = 0; index < ids.length; index++) text += this.pushOne(Number(ids[index]!));
    return text;
  }

  /** Returns what is still held (an incomplete character becomes U+FFFD per byte) and starts a new stream. */
  flush(): string {
    const text = this.pending.length > 0 ? this.emit() : '';
    this.context = [];
    this.contextText = '';
    this.pending = [];
    return text;
  }

  private pushOne(id: number): string {
    this.pending.push(id);
    if (this.endsInsideCharacter()) return '';
    return this.emit();
  }

  private emit(): string {
    const text = this.tokenizer.decode([...this.context, ...this.pending], this.options);
    if (text === this.contextText) return '';
    let shared = 0;
    if (text.startsWith(this.contextText)) {
      shared = this.contextText.length;
    } else {
      while (shared < text.length && shared < this.contextText.length && text[shared] === this.contextText[shared])
        shared++;
    }
    this.context = this.pending;
    this.contextText = this.tokenizer.decode(this.context, this.options);
    this.pending = [];
    return text.slice(shared);
  }

  private endsInsideCharacter(): boolean {
    if (!this.tokenizer.byteFallback) return false;
    const bytes: number[] = [];
    const ids = [...this.context, ...this.pending];
    for (let index = ids.length - 1; index >= 0; index--) {
      const id = ids[index]!;
      const token = Number.isSafeInteger(id) && id >= 0 ? this.tokenizer.idToToken(id) : undefined;
      // Tokens that decode drops do not interrupt a run of bytes.
      if (token === undefined || (this.options.skipSpecialTokens && this.tokenizer.isSpecialId(id))) continue;
      const byte = byteOfToken(token);
      if (byte === undefined) break;
      bytes.unshift(byte);
    }
    return bytes.length > 0 && isIncompleteUtf8(Uint8Array.from(bytes));
  }
}

/** The text before the first occurrence of any stop string, and whether one occurred. */
export function cutAtStop(text: string, stops: readonly string[]): { text: string; stopped: boolean } {
  let cut = -1;
  for (const stop of stops) {
    const at = text.indexOf(stop);
    if (at >= 0 && (cut < 0 || at < cut)) cut = at;
  }
  return cut < 0 ? { text, stopped: false } : { text: text.slice(0, cut), stopped: true };
}

/**
 * OpenAI's `stop` on streamed text: the stop string and everything after it are never sent, so text that could be
 * the start of a stop string is held back until the next delta says whether it is. The concatenated output equals
 * {@link cutAtStop} of the whole text.
 */
export class StopTextFilter {
  readonly #stops: readonly string[];
  #pending = '';
  #stopped = false;

  constructor(stops: readonly string[]) {
    this.#stops = stops;
  }

  /** Whether a stop string has occurred (the rest of the text is dropped). */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Takes the next piece of text; returns what can be sent now. */
  push(text: string): string {
    if (this.#stopped) return '';
    if (this.#stops.length === 0) return text;
    const pending = this.#pending + text;
    const cut = cutAtStop(pending, this.#stops);
    if (cut.stopped) {
      this.#stopped = true;
      this.#pending = '';
      return cut.text;
    }
    // Hold back the longest end of the text that a stop string starts with.
    let hold = 0;
    for (const stop of this.#stops) {
      for (let length = Math.min(stop.length - 1, pending.length); length > hold; length--) {
        if (pending.endsWith(stop.slice(0, length))) {
          hold = length;
          break;
        }
      }
    }
    this.#pending = pending.slice(pending.length - hold);
    return pending.slice(0, pending.length - hold);
  }

  /** The text held back, once the sequence has ended without a stop string. */
  flush(): string {
    const rest = this.#stopped ? '' : this.#pending;
    this.#pending = '';
    return rest;
  }
}

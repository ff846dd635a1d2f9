/** Turns token strings into text, as `tokenizer.json`'s `decoder` says. */
export interface TokenDecoder {
  /** The decoded text of `tokens`. */
  decode(tokens: readonly string[]): string;
  /** Whether `<0xHH>` tokens are bytes (a `ByteFallback` step): streaming must then hold incomplete characters. */
  readonly byteFallback: boolean;
}

type Step = (tokens: string[]) => string[];

const REPLACEMENT_CHARACTER = '\uFFFD';
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The byte of a `<0xHH>` token, or undefined for any other token. */
export function byteOfToken(token: string): number | undefined {
  if (token.length !== 6 || !token.startsWith('<0x') || !token.endsWith('>')) return undefined;
  const digits = token.slice(3, 5);
  return /^[0-9a-fA-F]{2}$/.test(digits) ? Number.parseInt(digits, 16) : undefined;
}

function flushBytes(bytes: number[], into: string[]): void {
  if (bytes.length === 0) return;
  try {
    into.push(strictUtf8.decode(Uint8Array.from(bytes)));
  } catch {
    // Rust's ByteFallback: a run that is not valid UTF-8 becomes one U+FFFD per byte (TextDecoder would merge them).
    for (let index = 0; index < bytes.length; index++) into.push(REPLACEMENT_CHARACTER);
  }
  bytes.length = 0;
}

const byteFallback: Step = (tokens) => {
  const output: string[] = [];
  const bytes: number[] = [];
  for (const token of tokens) {
    const byte = byteOfToken(token);
    if (byte !== undefined) {
      bytes.push(byte);
      continue;
    }
    flushBytes(bytes, output);
    output.push(token);
  }
  flushBytes(bytes, output);
  return output;
};

function replaceStep(config: Record<string, unknown>): Step | null {
  const pattern = config['pattern'] as { String?: unknown; Regex?: unknown } | undefined;
  const content = typeof config['content'] === 'string' ? config['content'] : '';
  if (typeof pattern?.String === 'string') {
    const search = pattern.String;
    return (tokens) => tokens.map((token) => token.replaceAll(search, content));
  }
  if (typeof pattern?.Regex === 'string') {
    let regex: RegExp;
    try {
      regex = new RegExp(pattern.Regex, 'gu');
    } catch {
      return null;
    }
    return (tokens) => tokens.map((token) => token.replace(regex, content));
  }
  return null;
}

function stripStep(config: Record<string, unknown>): Step {
  const content = typeof config['content'] === 'string' ? config['content'] : ' ';
  const start = typeof config['start'] === 'number' ? config['start'] : 0;
  const stop = typeof config['stop'] === 'number' ? config['stop'] : 0;
  return (tokens) =>
    tokens.map((token) => {
      const characters = Array.from(token);
      let from = 0;
      while (from < start && characters[from] === content) from++;
      let to = characters.length;
      while (characters.length - to < stop && to > from && characters[to - 1] === content) to--;
      return characters.slice(from, to).join('');
    });
}

function metaspaceStep(config: Record<string, unknown>): Step {
  const replacement = typeof config['replacement'] === 'string' ? config['replacement'] : '\u2581';
  const scheme =
    typeof config['prepend_scheme'] === 'string'
      ? config['prepend_scheme']
      : config['add_prefix_space'] === false
        ? 'never'
        : 'always';
  // Rust drops every replacement character of the first token when a prefix was prepended, and turns the others into spaces.
  return (tokens) =>
    tokens.map((token, index) => token.replaceAll(replacement, index === 0 && scheme !== 'never' ? '' : ' '));
}

function createStep(config: unknown): { step: Step; byteFallback: boolean } | null {
  if (typeof config !== 'object' || config === null) return null;
  const object = config as Record<string, unknown>;
  switch (object['type']) {
    case 'Sequence': {
      const parts = Array.isArray(object['decoders']) ? object['decoders'].map(createStep) : null;
      if (!parts || parts.some((part) => part === null)) return null;
      const steps = parts as Array<{ step: Step; byteFallback: boolean }>;
      return {
        step: (tokens) => steps.reduce((current, part) => part.step(current), tokens),
        byteFallback: steps.some((part) => part.byteFallback),
      };
    }
    case 'Replace': {
      const step = replaceStep(object);
      return step ? { step, byteFallback: false } : null;
    }
    case 'ByteFallback':
      return { step: byteFallback, byteFallback: true };
    case 'Fuse':
      return { step: (tokens) => [tokens.join('')], byteFallback: false };
    case 'Strip':
      return { step: stripStep(object), byteFallback: false };
    case 'Metaspace':
      return { step: metaspaceStep(object), byteFallback: false };
    default:
      return null;
  }
}

/**
 * Builds the decoder of a `tokenizer.json`. The SentencePiece steps (`Sequence`, `Replace`, `ByteFallback`, `Fuse`,
 * `Strip`, `Metaspace`) are ported from the Rust `tokenizers` library, whose decode transformers calls; any other
 * decoder falls back to `fallback` (the `@huggingface/tokenizers` implementation).
 *
 * @param config the `decoder` object of `tokenizer.json` (null: tokens are joined with spaces, as Rust does)
 * @param fallback decodes with the backend library when a step is not ported
 */
export function createTokenDecoder(config: unknown, fallback: (tokens: string[]) => string): TokenDecoder {
  if (config === null || config === undefined) return { decode: (tokens) => tokens.join(' '), byteFallback: false };
  const created = createStep(config);
  if (!created) return { decode: (tokens) => fallback([...tokens]), byteFallback: false };
  return { decode: (tokens) => created.step([...tokens]).join(''), byteFallback: created.byteFallback };
}

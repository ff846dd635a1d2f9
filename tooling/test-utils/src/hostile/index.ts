import { VIDEO_LLAVA_ERROR_CODES, VideoLlavaError } from '@video-llava/core';
import fc from 'fast-check';

/**
 * The hostile-input suite's property tests: every parser of outside bytes gets generated input (random, and valid
 * input mutated: bytes flipped, cut, spliced; JSON fields replaced by anything) and must either parse or fail with
 * a {@link VideoLlavaError} of a known code. Never another exception, never a hang.
 *
 * In CI the runs are bounded and the seed fixed, so a failure repeats. For a longer local search:
 * `VIDEO_LLAVA_FUZZ_RUNS=100000 VIDEO_LLAVA_FUZZ_SEED=$RANDOM pnpm --filter <package> exec vitest run hostile`
 * (fast-check prints the seed and the path of a failing case to replay it).
 */
export { fc };

/** The environment variable with the number of runs per property (default: each property's own, a few hundred). */
export const FUZZ_RUNS_VARIABLE = 'VIDEO_LLAVA_FUZZ_RUNS';
/** The environment variable with the seed (default {@link DEFAULT_FUZZ_SEED}). */
export const FUZZ_SEED_VARIABLE = 'VIDEO_LLAVA_FUZZ_SEED';
/** The fixed seed of CI runs. */
export const DEFAULT_FUZZ_SEED = 20261202;

/** A run that takes longer than this is a hang, whatever its outcome. */
export const HANG_MILLISECONDS = 2000;

function integerVariable(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, found ${JSON.stringify(text)}`);
  return value;
}

/**
 * fast-check parameters: the fixed seed and `runs` runs, or what {@link FUZZ_SEED_VARIABLE} and
 * {@link FUZZ_RUNS_VARIABLE} say.
 */
export function hostileParameters<T>(runs: number): fc.Parameters<T> {
  const numRuns = integerVariable(FUZZ_RUNS_VARIABLE) ?? runs;
  return { seed: integerVariable(FUZZ_SEED_VARIABLE) ?? DEFAULT_FUZZ_SEED, numRuns, endOnFailure: true };
}

/** What one parse did: the value, or the VideoLlavaError it threw (anything else is rethrown). */
export type ParseOutcome<T> = { ok: true; value: T } | { ok: false; error: VideoLlavaError };

function check(error: unknown, what: string): VideoLlavaError {
  if (!VideoLlavaError.isInstance(error)) {
    const detail = error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error);
    throw new Error(`${what} threw something other than a VideoLlavaError: ${detail}`);
  }
  if (!(VIDEO_LLAVA_ERROR_CODES as readonly string[]).includes(error.code))
    throw new Error(`${what} threw a VideoLlavaError of an unknown code ${error.code}: ${error.message}`);
  if (typeof error.message !== 'string' || error.message.length === 0)
    throw new Error(`${what} threw a VideoLlavaError without a message`);
  return error;
}

function checkTime(started: number, what: string): void {
  const elapsed = performance.now() - started;
  if (elapsed > HANG_MILLISECONDS)
    throw new Error(`${what} took ${elapsed.toFixed(0)} ms on one input (over ${HANG_MILLISECONDS} ms: a hang)`);
}

/** Runs a synchronous parser: it returns, or throws a VideoLlavaError of a known code, within {@link HANG_MILLISECONDS}. */
export function parsesOrFailsCleanly<T>(what: string, parse: () => T): ParseOutcome<T> {
  const started = performance.now();
  try {
    const value = parse();
    checkTime(started, what);
    return { ok: true, value };
  } catch (error) {
    checkTime(started, what);
    return { ok: false, error: check(error, what) };
  }
}

/** {@link parsesOrFailsCleanly} for an asynchronous parser. */
export async function parsesOrFailsCleanlyAsync<T>(what: string, parse: () => Promise<T>): Promise<ParseOutcome<T>> {
  const started = performance.now();
  try {
    const value = await parse();
    checkTime(started, what);
    return { ok: true, value };
  } catch (error) {
    checkTime(started, what);
    return { ok: false, error: check(error, what) };
  }
}

/**
 * Valid bytes damaged in one to four ways: a byte set to any value, a bit flipped, the end cut off, random bytes
 * inserted, a run of bytes duplicated or removed. Keeps most of the structure, so the parser gets past its first
 * checks (random bytes alone rarely do).
 */
export function mutatedBytes(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }),
    fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ kind: fc.constant('remove' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  );
  return fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => {
    let bytes: Uint8Array = Uint8Array.from(valid);
    for (const change of edits) {
      const at = bytes.length === 0 ? 0 : change.at % (bytes.length + 1);
      switch (change.kind) {
        case 'set':
          if (at < bytes.length) bytes[at] = change.value;
          break;
        case 'flip':
          if (at < bytes.length) bytes[at]! ^= 1 << change.bit;
          break;
        case 'cut':
          bytes = bytes.slice(0, at);
          break;
        case 'insert':
          bytes = concat(bytes.subarray(0, at), change.bytes, bytes.subarray(at));
          break;
        case 'duplicate':
          bytes = concat(bytes.subarray(0, at), bytes.subarray(at, at + change.length), bytes.subarray(at));
          break;
        case 'remove':
          bytes = concat(bytes.subarray(0, at), bytes.subarray(at + change.length));
          break;
      }
    }
    return bytes;
  });
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Any JSON value, with the awkward ones likely: huge and negative numbers, -0, empty and long strings, deep nesting. */
export function anyJson(): fc.Arbitrary<unknown> {
  const awkward = fc.constantFrom<unknown>(
    0,
    -0,
    -1,
    1.5,
    1e308,
    -1e308,
    2 ** 53 + 2,
    4096,
    '',
    'x'.repeat(300),
    '__proto__',
    'constructor',
    null,
    true,
    false,
    [],
    {},
  );
  return fc.oneof({ weight: 1, arbitrary: awkward }, { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) });
}

type JsonPath = Array<string | number>;

function pathsOf(value: unknown, prefix: JsonPath = [], out: JsonPath[] = []): JsonPath[] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((item, index) => pathsOf(item, [...prefix, index], out));
  else if (typeof value === 'object' && value !== null)
    for (const [key, item] of Object.entries(value)) pathsOf(item, [...prefix, key], out);
  return out;
}

function setAt(root: unknown, path: JsonPath, replacement: unknown, remove: boolean): unknown {
  if (path.length === 0) return remove ? undefined : replacement;
  const copy: unknown = structuredClone(root);
  let parent = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (remove && !Array.isArray(parent)) delete parent[last];
  else parent[last] = replacement;
  return copy;
}

/**
 * A valid JSON document with one to three of its values (at any depth, the whole document included) replaced by
 * any JSON value or removed.
 */
export function mutatedJson(valid: unknown): fc.Arbitrary<unknown> {
  const paths = pathsOf(valid);
  const change = fc.record({ path: fc.constantFrom(...paths), replacement: anyJson(), remove: fc.boolean() });
  return fc.array(change, { minLength: 1, maxLength: 3 }).map((changes) => {
    let value: unknown = structuredClone(valid);
    for (const { path, replacement, remove } of changes) {
      try {
        value = setAt(value, path, replacement, remove);
      } catch {
        // the path went away with an earlier change
      }
    }
    return value;
  });
}

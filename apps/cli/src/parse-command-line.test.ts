import { describe, expect, it } from 'vitest';
import { UsageError } from './command.js';
import { parseCommandLine } from './parse-command-line.js';

const spec = {
  usage: 'video-llava copy <from> <to> [--json]',
  options: {
    json: { type: 'boolean', default: false, description: 'print JSON' },
    mode: { type: 'string', value: 'MODE', description: 'how to copy' },
  },
  positionals: [
    { name: '<from>', description: 'the file to read' },
    { name: '<to>', description: 'the file to write' },
  ],
} as const;

function usageError(argv: string[]): UsageError {
  try {
    parseCommandLine(argv, spec);
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error(`parseCommandLine(${JSON.stringify(argv)}) did not throw`);
}

describe('parseCommandLine', () => {
  it('returns the flag values and one string per positional', () => {
    expect(parseCommandLine(['a', '--json', 'b', '--mode', 'fast'], spec)).toEqual({
      values: { json: true, mode: 'fast' },
      positionals: ['a', 'b'],
    });
    expect(parseCommandLine(['a', 'b'], spec).values.json).toBe(false);
  });

  it('names the first missing positional and what to give', () => {
    expect(usageError([]).message).toBe('missing <from>: the file to read');
    expect(usageError(['a']).message).toBe('missing <to>: the file to write');
  });

  it('refuses an extra positional and an unknown flag, with the usage', () => {
    const extra = usageError(['a', 'b', 'c']);
    expect(extra.message).toBe('unexpected argument "c"');
    expect(extra.usage).toBe(spec.usage);
    expect(usageError(['a', 'b', '--colour']).message).toContain("Unknown option '--colour'");
  });

  it("gives a negative number to the flag before it, so the flag's own check can name its range", () => {
    expect(parseCommandLine(['a', 'b', '--mode', '-1'], spec).values.mode).toBe('-1');
    expect(parseCommandLine(['a', 'b', '--mode', '-0.5'], spec).values.mode).toBe('-0.5');
    expect(parseCommandLine(['a', 'b', '--mode', '-.5'], spec).values.mode).toBe('-.5');
    // not a number: still the parser's message (a forgotten value)
    expect(usageError(['a', 'b', '--mode', '-x']).message).toContain('--mode');
    // after --, words are positionals
    expect(parseCommandLine(['--', '-1', '-2'], spec).positionals).toEqual(['-1', '-2']);
  });
});

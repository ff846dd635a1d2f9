import { describe, expect, it } from 'vitest';
import { createTestIo } from './test-io.js';
import { writeResult } from './write-result.js';

describe('writeResult', () => {
  const formatText = (result: { a: number }) => `a is ${result.a}\n`;

  it('prints the text without --json, one JSON line with it, indented JSON when asked', () => {
    const text = createTestIo();
    writeResult(text, { a: 1 }, { json: false, formatText });
    expect(text.out()).toBe('a is 1\n');
    const line = createTestIo();
    writeResult(line, { a: 1 }, { json: true, formatText });
    expect(line.out()).toBe('{"a":1}\n');
    const indented = createTestIo();
    writeResult(indented, { a: 1 }, { json: true, formatText, indent: 2 });
    expect(indented.out()).toBe('{\n  "a": 1\n}\n');
  });
});

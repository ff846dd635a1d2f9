import {
  fc,
  hostileParameters,
  mutatedBytes,
  mutatedJson,
  parsesOrFailsCleanly,
} from '@video-llava/test-utils/hostile';
import { describe, expect, it } from 'vitest';
import { parseSafetensorsHeader, readSafetensorsHeaderLength } from './safetensors-header.js';

// The hostile-input suite for safetensors (see @video-llava/test-utils/hostile): any file bytes give a validated
// header or an INVALID_FILE naming the file; never another exception or a hang.

const header = {
  __metadata__: { format: 'pt' },
  'a.weight': { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] },
  'b.bias': { dtype: 'BF16', shape: [4], data_offsets: [24, 32] },
  'c.scale': { dtype: 'F16', shape: [], data_offsets: [32, 34] },
};

function fileOf(headerJson: unknown, dataBytes = 34): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify(headerJson) ?? 'undefined');
  const out = new Uint8Array(8 + text.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  return out;
}

/** What the converter does with a file's bytes: the length prefix, then the header. */
function parseFile(bytes: Uint8Array): unknown {
  const length = readSafetensorsHeaderLength(bytes.subarray(0, 8), bytes.length, 'fuzz.safetensors');
  return parseSafetensorsHeader(bytes.subarray(8, 8 + length), bytes.length, 'fuzz.safetensors');
}

describe('hostile input: safetensors headers', () => {
  it('the valid file parses', () => {
    expect(parsesOrFailsCleanly('parse', () => parseFile(fileOf(header))).ok).toBe(true);
  });

  it('damaged bytes, lying JSON and random data parse or fail with INVALID_FILE naming the file', () => {
    const inputs = fc.oneof(
      mutatedBytes(fileOf(header)),
      mutatedJson(header).chain((json) => fc.integer({ min: 0, max: 64 }).map((data) => fileOf(json, data))),
      fc.uint8Array({ maxLength: 64 }),
    );
    fc.assert(
      fc.property(inputs, (bytes) => {
        const outcome = parsesOrFailsCleanly('safetensors header', () => parseFile(bytes));
        if (!outcome.ok) {
          expect(outcome.error.code).toBe('INVALID_FILE');
          expect(outcome.error.file).toBe('fuzz.safetensors');
        }
      }),
      hostileParameters(1000),
    );
  });
});

import { VideoLlavaError } from '@video-llava/core';
import { describe, expect, it } from 'vitest';
import { resolveGenerationSettings } from '../resolve-generation-settings.js';
import { buildStoppingCriteria } from './build-stopping-criteria.js';
import { EosTokenCriterion } from './eos-token-criterion.js';
import { MaxLengthCriterion } from './max-length-criterion.js';
import { StopStringCriterion } from './stop-string-criterion.js';

const ids = (...rows: number[][]) => rows.map((row) => Int32Array.from(row));
const doneOf = (criterion: { check(inputIds: readonly Int32Array[], done: Uint8Array): void }, rows: Int32Array[]) => {
  const done = new Uint8Array(rows.length);
  criterion.check(rows, done);
  return Array.from(done);
};

// A toy vocabulary: id -> text.
const PIECES = ['<s>', 'he', 'llo', ' wor', 'ld', '!', 'lo'];
const decode = (tokens: readonly number[]) => tokens.map((token) => PIECES[token]).join('');

describe('MaxLengthCriterion / EosTokenCriterion', () => {
  it('stops every row at the total length', () => {
    expect(doneOf(new MaxLengthCriterion(3), ids([1, 2], [1, 2]))).toEqual([0, 0]);
    expect(doneOf(new MaxLengthCriterion(3), ids([1, 2, 3], [1, 2, 3]))).toEqual([1, 1]);
  });

  it('stops the rows whose last token is one of the EOS ids', () => {
    expect(doneOf(new EosTokenCriterion([2, 5]), ids([1, 2], [2, 1], [3, 5]))).toEqual([1, 0, 1]);
  });
});

describe('StopStringCriterion', () => {
  it('stops on the token that completes the string, not before', () => {
    const criterion = new StopStringCriterion(['lo w'], decode);
    expect(doneOf(criterion, ids([0, 1, 2]))).toEqual([0]); // "hello"
    expect(doneOf(criterion, ids([0, 1, 2, 3]))).toEqual([1]); // "hello wor" completes "lo w" (overhang "or")
  });

  it('matches a string inside one token, and across the prompt boundary', () => {
    expect(doneOf(new StopStringCriterion(['or'], decode), ids([0, 3]))).toEqual([1]);
    expect(doneOf(new StopStringCriterion(['ld!'], decode), ids([4, 5]))).toEqual([1]);
  });

  it('does not stop on a string that was complete before the newest token (e.g. inside the prompt)', () => {
    expect(doneOf(new StopStringCriterion(['hello'], decode), ids([1, 2, 5]))).toEqual([0]);
  });

  it('checks each row on its own', () => {
    expect(doneOf(new StopStringCriterion(['!', 'ld'], decode), ids([1, 4], [1, 2], [2, 5]))).toEqual([1, 0, 1]);
  });
});

describe('buildStoppingCriteria', () => {
  it('needs a decode function for stop strings', () => {
    const settings = resolveGenerationSettings(undefined, { stopStrings: ['x'], eosTokenId: [2] }, 3);
    try {
      buildStoppingCriteria(settings, undefined);
      expect.unreachable();
    } catch (error) {
      expect(VideoLlavaError.isInstance(error) && error.code).toBe('INVALID_ARGUMENT');
      expect((error as VideoLlavaError).field).toBe('decode');
    }
    expect(buildStoppingCriteria(settings, decode).map((criterion) => criterion.reason)).toEqual([
      'length',
      'stop-string',
      'eos',
    ]);
  });
});

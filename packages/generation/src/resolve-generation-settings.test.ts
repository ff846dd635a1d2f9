import { VideoLlavaError } from '@video-llava/core';
import { parseGenerationConfig } from '@video-llava/config';
import { tinyFixture } from '@video-llava/test-utils';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveGenerationSettings } from './resolve-generation-settings.js';

const fixtureConfig = parseGenerationConfig(
  JSON.parse(readFileSync(join(tinyFixture.model, 'generation_config.json'), 'utf8')),
);

function expectError(run: () => unknown, code: string, field: string): void {
  try {
    run();
    expect.unreachable();
  } catch (error) {
    expect(VideoLlavaError.isInstance(error) && error.code).toBe(code);
    expect((error as VideoLlavaError).field).toBe(field);
  }
}

describe('resolveGenerationSettings: lengths as transformers generate computes them', () => {
  it('turns the untouched default max_length 20 into 20 new tokens, capped by maxPositionEmbeddings', () => {
    expect(resolveGenerationSettings(fixtureConfig, {}, 16).maxLength).toBe(36);
    expect(resolveGenerationSettings(fixtureConfig, {}, 16, 30).maxLength).toBe(30);
  });

  it('caps any requested total at maxPositionEmbeddings (transformers would only warn), and says so', () => {
    const capped = resolveGenerationSettings(fixtureConfig, { maxNewTokens: 1e9 }, 16, 4096);
    expect(capped).toMatchObject({ maxLength: 4096, cappedByMaxPositionEmbeddings: true });
    expect(resolveGenerationSettings(fixtureConfig, { maxLength: 5000 }, 16, 4096)).toMatchObject({
      maxLength: 4096,
      cappedByMaxPositionEmbeddings: true,
    });
    expect(resolveGenerationSettings(fixtureConfig, { maxNewTokens: 10 }, 16, 4096)).toMatchObject({
      maxLength: 26,
      cappedByMaxPositionEmbeddings: false,
    });
    expect(resolveGenerationSettings(fixtureConfig, { maxNewTokens: 4080 }, 16, 4096)).toMatchObject({
      maxLength: 4096,
      cappedByMaxPositionEmbeddings: false,
    });
    expectError(
      () => resolveGenerationSettings(fixtureConfig, { maxNewTokens: 1 }, 4096, 4096),
      'SEQUENCE_TOO_LONG',
      'inputIds',
    );
  });

  it('lets maxNewTokens win over maxLength, from the options or the file', () => {
    expect(resolveGenerationSettings(fixtureConfig, { maxNewTokens: 24, maxLength: 100 }, 16).maxLength).toBe(40);
    const fromFile = parseGenerationConfig({ max_new_tokens: 7, max_length: 100 });
    expect(resolveGenerationSettings(fromFile, {}, 16).maxLength).toBe(23);
    expect(resolveGenerationSettings(fromFile, { maxLength: 50 }, 16).maxLength).toBe(23);
  });

  it('treats an explicit maxLength (even 20) and a non-default file max_length as total lengths', () => {
    expect(resolveGenerationSettings(fixtureConfig, { maxLength: 20 }, 16).maxLength).toBe(20);
    expect(resolveGenerationSettings(parseGenerationConfig({ max_length: 64 }), {}, 16).maxLength).toBe(64);
  });

  it('turns minNewTokens into a total min length', () => {
    const settings = resolveGenerationSettings(fixtureConfig, { minNewTokens: 3, minLength: 100 }, 16);
    expect(settings.minLength).toBe(19);
    expect(settings.minNewTokens).toBe(3);
  });

  it('refuses a prompt that leaves no room, and maxNewTokens 0', () => {
    expectError(
      () => resolveGenerationSettings(fixtureConfig, { maxLength: 16 }, 16),
      'SEQUENCE_TOO_LONG',
      'maxLength',
    );
    expectError(
      () => resolveGenerationSettings(fixtureConfig, { maxNewTokens: 0 }, 16),
      'INVALID_ARGUMENT',
      'maxNewTokens',
    );
  });
});

describe('resolveGenerationSettings: defaults and overrides', () => {
  it("takes the checkpoint's token ids and transformers' defaults", () => {
    const settings = resolveGenerationSettings(fixtureConfig, {}, 4);
    expect(settings).toMatchObject({
      eosTokenIds: [2],
      padTokenId: 32002,
      doSample: false,
      numBeams: 1,
      temperature: 1,
      topK: 50,
      topP: 1,
      minP: null,
      repetitionPenalty: 1,
      noRepeatNgramSize: 0,
      lengthPenalty: 1,
      earlyStopping: false,
      numReturnSequences: 1,
      stopStrings: [],
    });
  });

  it('lets options override the file; null unsets', () => {
    const settings = resolveGenerationSettings(
      fixtureConfig,
      { eosTokenId: [2, 7], padTokenId: 0, topK: 3, minP: 0.1 },
      4,
    );
    expect(settings).toMatchObject({ eosTokenIds: [2, 7], padTokenId: 0, topK: 3, minP: 0.1 });
    expect(resolveGenerationSettings(fixtureConfig, { eosTokenId: null }, 4).eosTokenIds).toEqual([]);
    expect(resolveGenerationSettings(parseGenerationConfig({ min_p: 0.2 }), { minP: null }, 4).minP).toBeNull();
  });

  it('falls back to the first EOS id for padding, and reads stop_strings from the file', () => {
    const config = parseGenerationConfig({ eos_token_id: [5, 6], stop_strings: 'END' });
    const settings = resolveGenerationSettings(config, {}, 4);
    expect(settings.padTokenId).toBe(5);
    expect(settings.stopStrings).toEqual(['END']);
    expect(resolveGenerationSettings(config, { stopStrings: ['a', 'b'] }, 4).stopStrings).toEqual(['a', 'b']);
  });

  it('treats temperature 0 as greedy', () => {
    expect(resolveGenerationSettings(fixtureConfig, { doSample: true, temperature: 0 }, 4).doSample).toBe(false);
  });

  it.each([
    [{ topP: 1.5 }, 'topP'],
    [{ topK: -1 }, 'topK'],
    [{ minP: 2 }, 'minP'],
    [{ temperature: -1 }, 'temperature'],
    [{ repetitionPenalty: 0 }, 'repetitionPenalty'],
    [{ numBeams: 0 }, 'numBeams'],
    [{ noRepeatNgramSize: 1.5 }, 'noRepeatNgramSize'],
    [{ lengthPenalty: Number.NaN }, 'lengthPenalty'],
    [{ numReturnSequences: 2 }, 'numReturnSequences'],
    [{ numBeams: 2, numReturnSequences: 3 }, 'numReturnSequences'],
    [{ eosTokenId: [-1] }, 'eosTokenId[0]'],
    [{ stopStrings: [''] }, 'stopStrings[0]'],
    [{ earlyStopping: 'sometimes' as never }, 'earlyStopping'],
  ])('refuses %j, naming %s', (options, field) => {
    expectError(() => resolveGenerationSettings(fixtureConfig, options, 4), 'INVALID_ARGUMENT', field);
  });
});

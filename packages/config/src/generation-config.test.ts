import { describe, expect, it } from 'vitest';
import { catchError } from '../test/catch-error.js';
import { tinyJson } from '../test/fixture-paths.js';
import { parseGenerationConfig } from './generation-config.js';
import { parseModelConfig } from './model-config.js';

describe('parseGenerationConfig', () => {
  it("fills transformers' GenerationConfig defaults (greedy, max_length 20)", () => {
    const config = parseGenerationConfig(tinyJson('generation_config.json'));
    expect(config).toMatchObject({
      maxLength: 20,
      maxNewTokens: null,
      doSample: false,
      numBeams: 1,
      temperature: 1,
      topK: 50,
      topP: 1,
      repetitionPenalty: 1,
      useCache: true,
    });
    const raw = tinyJson('generation_config.json');
    expect(config.eosTokenId).toEqual([raw['eos_token_id']]);
    expect(config.padTokenId).toBe(raw['pad_token_id']);
  });

  it('accepts eos as a list, and falls back to the text config for ids the file lacks', () => {
    expect(parseGenerationConfig({ eos_token_id: [2, 32002] }).eosTokenId).toEqual([2, 32002]);
    const model = parseModelConfig(tinyJson('config.json'));
    const config = parseGenerationConfig({}, 'generation_config.json', model);
    expect([config.bosTokenId, config.eosTokenId, config.padTokenId]).toEqual([
      model.textConfig.bosTokenId,
      model.textConfig.eosTokenId,
      model.textConfig.padTokenId,
    ]);
  });

  it('allows temperature 0 for greedy configs only', async () => {
    expect(parseGenerationConfig({ temperature: 0 }).temperature).toBe(0);
    const error = await catchError(() => parseGenerationConfig({ do_sample: true, temperature: 0 }));
    expect([error.code, error.field]).toEqual(['INVALID_CONFIG', 'temperature']);
  });

  it('errors name the file and the field', async () => {
    const type = await catchError(() => parseGenerationConfig({ eos_token_id: '2' }, 'model/generation_config.json'));
    expect([type.code, type.file, type.field]).toEqual([
      'INVALID_CONFIG',
      'model/generation_config.json',
      'eos_token_id',
    ]);
    expect(type.message).toContain('model/generation_config.json');
    expect(type.message).toContain('eos_token_id');
    const range = await catchError(() => parseGenerationConfig({ top_p: 1.5 }));
    expect([range.code, range.field]).toEqual(['INVALID_CONFIG', 'top_p']);
    expect(range.message).toContain('1.5');
    const beams = await catchError(() => parseGenerationConfig({ num_beams: 0 }));
    expect([beams.code, beams.field]).toEqual(['INVALID_CONFIG', 'num_beams']);
  });
});

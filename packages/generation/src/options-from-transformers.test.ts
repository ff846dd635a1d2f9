import { VideoLlavaError } from '@video-llava/core';
import { tinyFixture } from '@video-llava/test-utils';
import { describe, expect, it } from 'vitest';
import { generationOptionsFromTransformers } from './options-from-transformers.js';
import { resolveGenerationSettings } from './resolve-generation-settings.js';

interface VariantRow {
  case: string;
  variant: string;
  options: Record<string, unknown>;
  generated: number[][];
}

describe('generationOptionsFromTransformers', () => {
  it('maps every option of refs/generation_variants.json, and the settings follow them', () => {
    const rows = tinyFixture.json<VariantRow[]>('generation_variants.json');
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      const options = generationOptionsFromTransformers(row.options);
      const settings = resolveGenerationSettings(undefined, { ...options, eosTokenId: 2 }, 10);
      expect(settings.doSample).toBe(row.options['do_sample']);
      expect(settings.maxLength - 10).toBe(row.options['max_new_tokens']);
      expect(settings.numBeams).toBe(row.options['num_beams'] ?? 1);
      expect(settings.repetitionPenalty).toBe(row.options['repetition_penalty'] ?? 1);
      expect(settings.noRepeatNgramSize).toBe(row.options['no_repeat_ngram_size'] ?? 0);
      expect(settings.lengthPenalty).toBe(row.options['length_penalty'] ?? 1);
      // Each reference row generated exactly max_new_tokens ids (padding included).
      expect(row.generated[0]!.length).toBe(row.options['max_new_tokens']);
    }
  });

  it('names an option it does not implement', () => {
    try {
      generationOptionsFromTransformers({ num_beam_groups: 2 });
      expect.unreachable();
    } catch (error) {
      expect(VideoLlavaError.isInstance(error) && error.code).toBe('UNSUPPORTED');
      expect((error as VideoLlavaError).field).toBe('num_beam_groups');
    }
  });
});

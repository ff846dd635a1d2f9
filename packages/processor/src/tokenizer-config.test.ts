import { tinyFixture } from '@video-llava/test-utils';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTokenizerConfig } from './tokenizer-config.js';

describe('parseTokenizerConfig', () => {
  it('reads the fixture: LLaMA pads on the left, the 1e30 model_max_length means no limit', () => {
    const raw = JSON.parse(readFileSync(join(tinyFixture.model, 'tokenizer_config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const config = parseTokenizerConfig(raw);
    expect(config.paddingSide).toBe('left');
    expect(config.padToken).toBe(raw['pad_token']);
    expect(config.modelMaxLength).toBeNull();
    expect(config.cleanUpTokenizationSpaces).toBe(raw['clean_up_tokenization_spaces']);
    expect(config.legacy).toBeNull();
    expect(config.chatTemplate).toBeNull();
  });

  it('reads token objects, the named chat template list, special_tokens_map.json and defaults', () => {
    const config = parseTokenizerConfig(
      {
        tokenizer_class: 'GPT2Tokenizer',
        eos_token: { content: '</s>', lstrip: false, __type: 'AddedToken' },
        chat_template: [
          { name: 'tool_use', template: 'T' },
          { name: 'default', template: 'D' },
        ],
        model_max_length: 4096,
        additional_special_tokens: ['<x>'],
      },
      'tokenizer_config.json',
      { pad_token: '<pad>' },
    );
    expect(config.eosToken).toBe('</s>');
    expect(config.padToken).toBe('<pad>');
    expect(config.chatTemplate).toBe('D');
    expect(config.modelMaxLength).toBe(4096);
    expect(config.paddingSide).toBe('right');
    expect(config.additionalSpecialTokens.map((token) => token.content)).toEqual(['<x>']);
  });

  it('names the field of a malformed value', () => {
    expect(() => parseTokenizerConfig({ added_tokens_decoder: { x: { content: 'a' } } })).toThrowError(
      expect.objectContaining({ code: 'INVALID_CONFIG', field: 'added_tokens_decoder.x' }),
    );
    expect(() => parseTokenizerConfig({ bos_token: 3 })).toThrowError(
      expect.objectContaining({ code: 'INVALID_CONFIG', field: 'bos_token', file: 'tokenizer_config.json' }),
    );
    expect(() => parseTokenizerConfig({ chat_template: [{ name: 1 }] })).toThrowError(
      expect.objectContaining({ field: 'chat_template[0]' }),
    );
  });
});

import { fixtureCases } from '@video-llava/test-utils';
import { describe, expect, it } from 'vitest';
import { formatVideoLlavaPrompt } from './video-llava-prompt.js';

describe('formatVideoLlavaPrompt', () => {
  it('gives the prompts of refs/cases.json', () => {
    const two = fixtureCases().find((entry) => entry.name === 'two_images')!;
    expect(
      formatVideoLlavaPrompt([
        {
          role: 'user',
          content: [{ type: 'image' }, { type: 'image' }, { type: 'text', text: 'Which one is brighter?' }],
        },
      ]),
    ).toBe(two.text[0]);
  });

  it('puts a system message first and leaves the generation prompt out on request', () => {
    expect(
      formatVideoLlavaPrompt(
        [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Hello' },
        ],
        { addGenerationPrompt: false },
      ),
    ).toBe('Be brief. USER: Hi ASSISTANT: Hello</s>');
  });

  it('names the message of an unknown role or a malformed part', () => {
    expect(() => formatVideoLlavaPrompt([{ role: 'tool', content: 'x' }])).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'messages[0].role' }),
    );
    expect(() => formatVideoLlavaPrompt([{ role: 'user', content: [{ type: 'audio' } as never] }])).toThrowError(
      expect.objectContaining({ field: 'messages[0].content[0].type' }),
    );
    expect(() => formatVideoLlavaPrompt([])).toThrowError(expect.objectContaining({ field: 'messages' }));
  });
});

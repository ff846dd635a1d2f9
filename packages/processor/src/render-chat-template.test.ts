import { DirectorySource } from '@video-llava/config/node';
import type { ModelSource, ReadOptions } from '@video-llava/config';
import { tinyFixture } from '@video-llava/test-utils';
import { describe, expect, it } from 'vitest';
import { renderChatTemplate } from './render-chat-template.js';
import { VideoLlavaProcessor } from './video-llava-processor.js';

// A llava-hf style template: media first, then text; assistant turns closed with the EOS token.
const TEMPLATE =
  "{% for message in messages %}{% if message['role'] == 'user' %}{{ 'USER: ' }}{% for part in message['content'] | selectattr('type', 'equalto', 'video') %}{{ '<video>\\n' }}{% endfor %}" +
  "{% for part in message['content'] | selectattr('type', 'equalto', 'text') %}{{ part['text'] }}{% endfor %}{{ ' ' }}{% else %}{{ 'ASSISTANT: ' + message['content'][0]['text'] + eos_token }}{% endif %}{% endfor %}" +
  "{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}";

/** The fixture checkpoint with extra files. */
function withFiles(extra: Record<string, string>): ModelSource {
  const directory = new DirectorySource(tinyFixture.model);
  return {
    description: directory.description,
    exists: async (path: string, _options?: ReadOptions) => path in extra || directory.exists(path),
    readBytes: async (path: string, options?: ReadOptions) =>
      path in extra ? new TextEncoder().encode(extra[path]) : directory.readBytes(path, options),
    readText: async (path: string, options?: ReadOptions) => extra[path] ?? directory.readText(path, options),
  };
}

describe('chat templates', () => {
  it('renders messages, add_generation_prompt and the special tokens', async () => {
    const messages = [
      { role: 'user', content: [{ type: 'video' as const }, { type: 'text' as const, text: 'What is it?' }] },
      { role: 'assistant', content: [{ type: 'text' as const, text: 'A cat.' }] },
      { role: 'user', content: [{ type: 'text' as const, text: 'Why?' }] },
    ];
    const text = await renderChatTemplate(TEMPLATE, messages, { specialTokens: { eos_token: '</s>' } });
    expect(text).toBe('USER: <video>\nWhat is it? ASSISTANT: A cat.</s>USER: Why? ASSISTANT:');
    expect(await renderChatTemplate(TEMPLATE, messages.slice(0, 1), { addGenerationPrompt: false })).toBe(
      'USER: <video>\nWhat is it? ',
    );
  });

  it('turns raise_exception into INVALID_ARGUMENT and a broken template into INVALID_CONFIG, naming the file', async () => {
    const raising =
      "{% if messages[0]['role'] != 'user' %}{{ raise_exception('Conversation must start with the user') }}{% endif %}";
    await expect(
      renderChatTemplate(raising, [{ role: 'assistant', content: 'x' }], { file: 'chat_template.jinja' }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      file: 'chat_template.jinja',
      message: expect.stringContaining('Conversation must start with the user'),
    });
    await expect(renderChatTemplate('{% for %}', [], { file: 'chat_template.json' })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      file: 'chat_template.json',
    });
  });

  it('VideoLlavaProcessor.fromPretrained uses chat_template.json, and chat_template.jinja before it', async () => {
    const fromJson = await VideoLlavaProcessor.fromPretrained(
      withFiles({ 'chat_template.json': JSON.stringify({ chat_template: TEMPLATE }) }),
    );
    expect(fromJson.chatTemplate).toBe(TEMPLATE);
    expect(
      await fromJson.applyChatTemplate([
        { role: 'user', content: [{ type: 'video' }, { type: 'text', text: 'Why is this funny?' }] },
      ]),
    ).toBe('USER: <video>\nWhy is this funny? ASSISTANT:');
    const both = await VideoLlavaProcessor.fromPretrained(
      withFiles({ 'chat_template.json': JSON.stringify({ chat_template: TEMPLATE }), 'chat_template.jinja': 'JINJA' }),
    );
    expect(both.chatTemplate).toBe('JINJA');
  });

  it('a malformed chat_template.json names the file and field', async () => {
    await expect(
      VideoLlavaProcessor.fromPretrained(withFiles({ 'chat_template.json': JSON.stringify({ chat_template: 3 }) })),
    ).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      field: 'chat_template',
      file: expect.stringContaining('chat_template.json'),
    });
  });
});

import type { Tensor } from '@video-llava/core';
import { tinyFixture } from '@video-llava/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from './chat-message.js';
import { loadVideoLlavaProcessor } from './node.js';
import { collectLiteralRanges, markLiteralText } from './prompt-text.js';
import { VideoLlavaProcessor } from './video-llava-processor.js';

// User text given as text stays text: a `<video>` typed in a question is the five characters, not a placeholder;
// only the placeholders the template puts in for media parts are placeholders.

let processor: VideoLlavaProcessor;
const referenceVideo = tinyFixture.npy('pixel_values_videos_sample.npy') as Tensor<'float32'>;
const question = 'What does the HTML <video> tag do? And `<image>` in `</s>` code?';
const messages: ChatMessage[] = [{ role: 'user', content: [{ type: 'video' }, { type: 'text', text: question }] }];

beforeAll(async () => {
  processor = await loadVideoLlavaProcessor(tinyFixture.model);
});

function count(ids: ArrayLike<bigint>, id: number): number {
  return Array.from(ids).filter((value) => Number(value) === id).length;
}

describe('applyChatTemplateAsPrompt: the user text stays text', () => {
  it('the prompt text is what applyChatTemplate gives; only the typed special strings are marked', async () => {
    const prompt = await processor.applyChatTemplateAsPrompt(messages);
    expect(prompt.text).toBe(await processor.applyChatTemplate(messages));
    expect(prompt.text).toBe(`USER: <video>\n${question} ASSISTANT:`);
    expect(prompt.literalRanges.map(([start, end]) => prompt.text.slice(start, end))).toEqual([
      '<video>',
      '<image>',
      '</s>',
    ]);
  });

  it('one video for one video part: the typed <video>, <image> and </s> are tokenized as characters', async () => {
    const prompt = await processor.applyChatTemplateAsPrompt(messages);
    // The plain string has two <video> placeholders for one video (and an <image> without an image): refused.
    expect(() => processor({ text: prompt.text, pixelValuesVideos: referenceVideo })).toThrow(
      expect.objectContaining({ code: 'TOKEN_COUNT_MISMATCH' }),
    );
    const output = processor({ text: prompt, pixelValuesVideos: referenceVideo });
    const ids = output.inputIds.data;
    const perVideo = processor.config.derived.tokensPerFrame * referenceVideo.dims[1]!;
    expect(count(ids, processor.videoTokenId)).toBe(perVideo);
    expect(count(ids, processor.imageTokenId)).toBe(0);
    expect(count(ids, processor.tokenizer.eosTokenId!)).toBe(0);
    // The text part decodes back to what the user typed.
    const text = Array.from(ids, Number).filter((id) => id !== processor.videoTokenId);
    expect(processor.decode(text, { skipSpecialTokens: true })).toContain(`\n${question} ASSISTANT:`);
    // And the typed <video> tokenizes as the same characters do elsewhere (in a prompt without special strings).
    const typed = processor.tokenizer.encode(
      { text: 'a <video> b', literalRanges: [[2, 9]] },
      { addSpecialTokens: false },
    );
    expect(typed.ids).not.toContain(processor.videoTokenId);
    expect(processor.tokenizer.decode(typed.ids)).toBe('a <video> b');
    expect(typed.tokens.join('')).toBe('▁a▁<video>▁b');
  });

  it('a prompt with no special strings in the user text tokenizes exactly as its string', async () => {
    const plain = await processor.applyChatTemplateAsPrompt([
      { role: 'user', content: [{ type: 'video' }, { type: 'text', text: 'Why is this funny?' }] },
    ]);
    expect(plain.literalRanges).toEqual([]);
    expect(Array.from(processor({ text: plain, pixelValuesVideos: referenceVideo }).inputIds.data)).toEqual(
      Array.from(processor({ text: plain.text, pixelValuesVideos: referenceVideo }).inputIds.data),
    );
    // Template placeholders next to literal ones keep their ids and the ids around them.
    const mixed = processor.tokenizer.encode({ text: 'USER: <video>\nWhy? ASSISTANT:', literalRanges: [] });
    expect(mixed.ids).toEqual(processor.tokenizer.encode('USER: <video>\nWhy? ASSISTANT:').ids);
  });

  it('string content, history turns and a Jinja chat template keep the marks too', async () => {
    const jinja = new VideoLlavaProcessor({
      tokenizer: processor.tokenizer,
      config: processor.config,
      chatTemplate:
        "{% for m in messages %}{{ m['role'] | upper }}: {% if m['content'] is string %}{{ m['content'] | trim }}{% else %}{% for p in m['content'] %}{% if p['type'] == 'video' %}{{ '<video>\\n' }}{% else %}{{ p['text'] | trim }}{% endif %}{% endfor %}{% endif %}{{ '\\n' }}{% endfor %}ASSISTANT:",
    });
    const history: ChatMessage[] = [
      { role: 'user', content: '  Is <video> a tag?  ' },
      { role: 'assistant', content: 'Yes, <video> is.' },
      { role: 'user', content: [{ type: 'video' }, { type: 'text', text: 'And here?' }] },
    ];
    const prompt = await jinja.applyChatTemplateAsPrompt(history);
    expect(prompt.text).toBe(
      'USER: Is <video> a tag?\nASSISTANT: Yes, <video> is.\nUSER: <video>\nAnd here?\nASSISTANT:',
    );
    expect(prompt.literalRanges).toHaveLength(2);
    expect(count(jinja({ text: prompt, pixelValuesVideos: referenceVideo }).inputIds.data, jinja.videoTokenId)).toBe(
      processor.config.derived.tokensPerFrame * referenceVideo.dims[1]!,
    );
  });

  it('private-use characters in user text cannot forge a mark or a token', () => {
    const marked = markLiteralText([{ role: 'user', content: 'x\uE001<video>\uE002\uE000 32001\uE000' }], ['<video>']);
    const prompt = collectLiteralRanges(marked[0]!.content as string);
    expect(prompt.text).toBe('x\uFFFD<video>\uFFFD\uFFFD 32001\uFFFD');
    expect(prompt.literalRanges).toEqual([[2, 9]]);
    const ids = processor.tokenizer.encode(prompt, { addSpecialTokens: false }).ids;
    expect(ids).not.toContain(processor.videoTokenId);
  });
});

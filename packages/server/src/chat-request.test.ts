import { describe, expect, it } from 'vitest';
import { parseChatRequest } from './chat-request.js';

const greedyCheckpoint = { doSample: false, setsTopK: false };
const user = { role: 'user', content: 'hi' };

describe('parseChatRequest', () => {
  it('puts a placeholder where each media part was and collects the media in order, with their fields', () => {
    const parsed = parseChatRequest(
      {
        messages: [
          { role: 'system', content: 'Be brief.' },
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: 'a.png' } },
              { type: 'text', text: 'and' },
              { type: 'video_url', video_url: 'v.mp4' },
              { type: 'input_video', input_video: { url: 'w.mp4' } },
            ],
          },
          { role: 'assistant', content: 'Sure.' },
          { role: 'developer', content: 'x' },
        ],
      },
      { maxChoices: 8 },
      greedyCheckpoint,
    );
    expect(parsed.messages[1]!.content).toEqual([
      { type: 'image' },
      { type: 'text', text: 'and' },
      { type: 'video' },
      { type: 'video' },
    ]);
    expect(parsed.messages[3]!.role).toBe('system');
    expect(parsed.images).toEqual([{ kind: 'image', url: 'a.png', param: 'messages[1].content[0].image_url.url' }]);
    expect(parsed.videos.map((video) => [video.url, video.param])).toEqual([
      ['v.mp4', 'messages[1].content[2].video_url'],
      ['w.mp4', 'messages[1].content[3].input_video.url'],
    ]);
  });

  it('maps sampling fields to the generation options', () => {
    const greedy = parseChatRequest(
      { messages: [user], temperature: 0, max_tokens: 5, stop: 'x', n: 3 },
      { maxChoices: 8 },
      greedyCheckpoint,
    );
    expect(greedy.generation).toEqual({ maxNewTokens: 5, doSample: false, stopStrings: ['x'] });
    expect(greedy.n).toBe(3);
    const sampled = parseChatRequest(
      { messages: [user], temperature: 0.7, top_p: 0.9, seed: 3, n: 2, max_completion_tokens: 9, max_tokens: 4 },
      { maxChoices: 8 },
      greedyCheckpoint,
    );
    expect(sampled.generation).toEqual({
      maxNewTokens: 9,
      doSample: true,
      temperature: 0.7,
      topP: 0.9,
      topK: 0,
      seed: 3,
      numReturnSequences: 2,
    });
    const extensions = parseChatRequest(
      { messages: [user], temperature: 1, top_k: 20, min_p: 0.1, repetition_penalty: 1.2 },
      { maxChoices: 8 },
      greedyCheckpoint,
    );
    expect(extensions.generation).toMatchObject({ topK: 20, minP: 0.1, repetitionPenalty: 1.2 });
  });

  it("follows the checkpoint's do_sample and top_k when the request says nothing", () => {
    expect(
      parseChatRequest({ messages: [user] }, { maxChoices: 8 }, { doSample: true, setsTopK: true }).generation,
    ).toEqual({ doSample: true });
    expect(
      parseChatRequest({ messages: [user] }, { maxChoices: 8 }, { doSample: true, setsTopK: false }).generation,
    ).toEqual({ doSample: true, topK: 0 });
    expect(
      parseChatRequest(
        { messages: [user], temperature: null, stream_options: null },
        { maxChoices: 8 },
        greedyCheckpoint,
      ).generation,
    ).toEqual({ doSample: false });
  });
});

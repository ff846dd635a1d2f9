import { fc, hostileParameters } from '@video-llava/test-utils/hostile';
import { describe, expect, it } from 'vitest';
import { parseChatRequest } from './chat-request.js';
import { HttpError } from './openai-error.js';

// The hostile-input suite over request bodies: any JSON value, and valid requests with fields replaced by anything,
// either parse or are refused with a 4xx HttpError carrying an OpenAI error body; never another exception (which the
// server would answer with a 500), never a hang.
const limits = { maxChoices: 8 };
const checkpoint = { doSample: false, setsTopK: false };

function parsesOrRefuses(raw: unknown): void {
  const started = performance.now();
  try {
    parseChatRequest(raw, limits, checkpoint);
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    expect(error.status).toBeGreaterThanOrEqual(400);
    expect(error.status).toBeLessThan(500);
    expect(error.body().error.message.length).toBeGreaterThan(0);
  }
  expect(performance.now() - started).toBeLessThan(2000);
}

const valid = {
  model: 'video-llava',
  messages: [
    { role: 'system', content: 'Be brief.' },
    {
      role: 'user',
      content: [
        { type: 'video_url', video_url: { url: 'clips/a.mp4' } },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        { type: 'text', text: 'Why is this funny?' },
      ],
    },
    { role: 'assistant', content: 'Because.' },
    { role: 'user', content: 'And then?' },
  ],
  stream: true,
  stream_options: { include_usage: true },
  temperature: 0.7,
  top_p: 0.9,
  max_tokens: 16,
  seed: 3,
  stop: ['\n'],
  n: 2,
};

describe('hostile chat completion bodies', () => {
  it('the valid request parses', () => {
    expect(parseChatRequest(valid, limits, checkpoint).messages.length).toBeGreaterThan(0);
  });

  it('any JSON value parses or is a 4xx with an OpenAI error body', () => {
    fc.assert(fc.property(fc.jsonValue(), parsesOrRefuses), hostileParameters(500));
  });

  it('valid requests with one field (top level, message or content part) replaced by anything', () => {
    const anything = fc.oneof(
      fc.jsonValue(),
      fc.constant(undefined),
      fc.constantFrom(-1, 0, Number.POSITIVE_INFINITY, Number.NaN, '', '0'),
    );
    const topLevel = fc.record({
      key: fc.constantFrom(
        ...Object.keys(valid),
        'frequency_penalty',
        'logit_bias',
        'tools',
        'max_completion_tokens',
        'input_video',
      ),
      value: anything,
    });
    const inMessage = fc.record({ index: fc.nat(3), key: fc.constantFrom('role', 'content', 'name'), value: anything });
    const inPart = fc.record({
      index: fc.nat(2),
      key: fc.constantFrom('type', 'text', 'video_url', 'image_url', 'input_video'),
      value: anything,
    });
    fc.assert(
      fc.property(topLevel, inMessage, inPart, (top, message, part) => {
        const body = structuredClone(valid) as Record<string, unknown> & { messages: Array<Record<string, unknown>> };
        body[top.key] = top.value;
        if (Array.isArray(body.messages)) {
          const target = body.messages[message.index];
          if (typeof target === 'object' && target !== null) target[message.key] = message.value;
          const parts = (body.messages[1] as { content?: unknown } | undefined)?.content;
          const item = Array.isArray(parts) ? parts[part.index] : undefined;
          if (typeof item === 'object' && item !== null) (item as Record<string, unknown>)[part.key] = part.value;
        }
        parsesOrRefuses(body);
      }),
      hostileParameters(500),
    );
  });
});

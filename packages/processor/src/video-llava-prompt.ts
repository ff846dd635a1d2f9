import { VideoLlavaError, describeValue } from '@video-llava/core';
import type { ChatContentPart, ChatMessage } from './chat-message.js';

/** Options of {@link formatVideoLlavaPrompt}. */
export interface VideoLlavaPromptOptions {
  /**
   * End with `ASSISTANT:` so the model answers (transformers' `add_generation_prompt`).
   * @default true
   */
  addGenerationPrompt?: boolean;
  /**
   * The image placeholder.
   * @default "<image>"
   */
  imageToken?: string;
  /**
   * The video placeholder.
   * @default "<video>"
   */
  videoToken?: string;
  /**
   * What closes an assistant turn (the tokenizer's `eos_token`).
   * @default "</s>"
   */
  eosToken?: string;
}

function invalidMessage(index: number, field: string, expected: string, actual: unknown): never {
  throw new VideoLlavaError(
    'INVALID_ARGUMENT',
    `messages[${index}].${field} should be ${expected}, found ${describeValue(actual)}.`,
    {
      field: `messages[${index}].${field}`,
      expected,
      actual,
    },
  );
}

function partsOf(message: ChatMessage, index: number): readonly ChatContentPart[] {
  if (typeof message.content === 'string') return [{ type: 'text', text: message.content }];
  if (!Array.isArray(message.content))
    invalidMessage(index, 'content', 'a string or a list of {type: "text" | "image" | "video"} parts', message.content);
  message.content.forEach((part, partIndex) => {
    const type = (part as { type?: unknown } | null)?.type;
    if (type !== 'text' && type !== 'image' && type !== 'video')
      invalidMessage(index, `content[${partIndex}].type`, '"text", "image" or "video"', type);
    if (type === 'text' && typeof (part as { text?: unknown }).text !== 'string')
      invalidMessage(index, `content[${partIndex}].text`, 'a string', (part as { text?: unknown }).text);
  });
  return message.content;
}

/**
 * Video-LLaVA's conversation format (Vicuna v1, as in the model card and the original repository), for checkpoints
 * without a chat template:
 * `USER: <video>\nWhy is this funny? ASSISTANT:`; with history
 * `USER: <video>\nWhat is shown? ASSISTANT: A baby reading.</s>USER: Why is it funny? ASSISTANT:`.
 * In a user turn the images come first, then the videos, each followed by a newline, then the text. A system
 * message, when given, opens the prompt followed by a space.
 *
 * @throws VideoLlavaError `INVALID_ARGUMENT` naming the message of an unknown role or a malformed content part
 */
export function formatVideoLlavaPrompt(
  messages: readonly ChatMessage[],
  options: VideoLlavaPromptOptions = {},
): string {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `messages should be a non-empty list of {role, content}, found ${describeValue(messages)}.`,
      {
        field: 'messages',
        expected: 'a non-empty list of messages',
        actual: messages,
      },
    );
  }
  const imageToken = options.imageToken ?? '<image>';
  const videoToken = options.videoToken ?? '<video>';
  const eosToken = options.eosToken ?? '</s>';
  let prompt = '';
  let last: string | null = null;
  messages.forEach((message, index) => {
    const parts = partsOf(message, index);
    const text = parts.map((part) => (part.type === 'text' ? part.text : '')).join('');
    switch (message.role) {
      case 'system':
        prompt += `${text} `;
        break;
      case 'user': {
        const media =
          parts
            .filter((part) => part.type === 'image')
            .map(() => `${imageToken}\n`)
            .join('') +
          parts
            .filter((part) => part.type === 'video')
            .map(() => `${videoToken}\n`)
            .join('');
        prompt += `USER: ${media}${text} `;
        break;
      }
      case 'assistant':
        if (parts.some((part) => part.type !== 'text'))
          invalidMessage(index, 'content', 'text only in an assistant message', message.content);
        prompt += `ASSISTANT: ${text}${eosToken}`;
        break;
      default:
        invalidMessage(index, 'role', '"system", "user" or "assistant"', message.role);
    }
    last = message.role;
  });
  if ((options.addGenerationPrompt ?? true) && last !== 'assistant') prompt += 'ASSISTANT:';
  return prompt;
}

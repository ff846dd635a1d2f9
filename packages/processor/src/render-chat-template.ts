import { VideoLlavaError } from '@video-llava/core';
import type { ChatMessage } from './chat-message.js';

/** Options of {@link renderChatTemplate}. */
export interface RenderChatTemplateOptions {
  /**
   * Append the template's opening of an assistant turn (`add_generation_prompt`).
   * @default true
   */
  addGenerationPrompt?: boolean;
  /** `bos_token`, `eos_token`, `unk_token`, `pad_token` as the template sees them. */
  specialTokens?: Record<string, string | null>;
  /** More variables for the template (transformers passes extra `apply_chat_template` kwargs the same way). */
  variables?: Record<string, unknown>;
  /** Where the template came from, for error messages. */
  file?: string;
}

/**
 * Renders a Jinja chat template the way transformers' `apply_chat_template` does (`messages`,
 * `add_generation_prompt`, the special tokens, `raise_exception`), with `@huggingface/jinja` loaded on first use.
 *
 * @throws VideoLlavaError `INVALID_CONFIG` when the template does not parse, `INVALID_ARGUMENT` when it raises
 *   (e.g. roles that do not alternate)
 */
export async function renderChatTemplate(
  template: string,
  messages: readonly ChatMessage[],
  options: RenderChatTemplateOptions = {},
): Promise<string> {
  const { Template } = await import('@huggingface/jinja');
  const file = options.file ?? 'chat template';
  let compiled: InstanceType<typeof Template>;
  try {
    compiled = new Template(template);
  } catch (error) {
    throw new VideoLlavaError(
      'INVALID_CONFIG',
      `${file}: the chat template does not parse (${(error as Error).message}).`,
      {
        file,
        field: 'chat_template',
        expected: 'a Jinja template',
        actual: (error as Error).message,
        cause: error,
      },
    );
  }
  const specialTokens = Object.fromEntries(
    Object.entries(options.specialTokens ?? {}).filter(([, value]) => value !== null),
  );
  try {
    return compiled.render({
      ...options.variables,
      ...specialTokens,
      messages,
      add_generation_prompt: options.addGenerationPrompt ?? true,
    });
  } catch (error) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `${file}: rendering the chat template failed: ${(error as Error).message}`,
      {
        file,
        field: 'messages',
        expected: 'messages the chat template accepts',
        actual: (error as Error).message,
        cause: error,
      },
    );
  }
}

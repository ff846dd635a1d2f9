/** One part of a message's content, in transformers' multimodal chat format. */
export type ChatContentPart =
  | { type: 'text'; text: string }
  /** A place for an image (the pixels go to the processor separately, in order). */
  | { type: 'image'; [key: string]: unknown }
  /** A place for a video (the frames go to the processor separately, in order). */
  | { type: 'video'; [key: string]: unknown };

/** A chat message: `role` is `system`, `user` or `assistant`; `content` is text or a list of parts. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | (string & {});
  content: string | readonly ChatContentPart[];
}

export { Tokenizer } from './tokenizer.js';
export type { DecodeOptions, EncodeOptions, Encoding, TokenizerFiles, TokenizerOptions } from './tokenizer.js';
export { parseTokenizerConfig } from './tokenizer-config.js';
export type { TokenizerConfig, TokenSpec } from './tokenizer-config.js';
export { TokenStreamDecoder } from './token-stream-decoder.js';
export type { StreamDecodingTokenizer } from './token-stream-decoder.js';
export { formatVideoLlavaPrompt } from './video-llava-prompt.js';
export type { VideoLlavaPromptOptions } from './video-llava-prompt.js';
export { renderChatTemplate } from './render-chat-template.js';
export type { RenderChatTemplateOptions } from './render-chat-template.js';
export type { ChatContentPart, ChatMessage } from './chat-message.js';
export { isPromptText } from './prompt-text.js';
export type { PromptText } from './prompt-text.js';
export { expandMediaTokens } from './expand-media-tokens.js';
export type { MediaExpansion } from './expand-media-tokens.js';
export { padSequences } from './pad-sequences.js';
export type { PaddedBatch, PaddingStrategy, PadSequencesOptions } from './pad-sequences.js';
export { VideoLlavaProcessor } from './video-llava-processor.js';
export type {
  ApplyChatTemplateOptions,
  ImagePreprocessor,
  VideoLlavaProcessorInput,
  VideoLlavaProcessorOptions,
  VideoLlavaProcessorOutput,
  VideoLlavaProcessorParts,
  VideoPreprocessor,
} from './video-llava-processor.js';

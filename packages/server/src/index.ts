export { createVideoLlavaServer } from './video-llava-server.js';
export type { RequestLogLine, VideoLlavaServer, VideoLlavaServerOptions } from './video-llava-server.js';
export { HttpError } from './openai-error.js';
export type { OpenAiErrorBody, OpenAiErrorType } from './openai-error.js';
export { MediaRoot, nodeMediaFileSystem } from './media-root.js';
export type { MediaFileSystem } from './media-root.js';
export { parseChatRequest } from './chat-request.js';
export type { ChatCompletionRequest, ChatRequestLimits } from './chat-request.js';

import type { ModelSource } from '@video-llava/config';
import { resolveSource } from '@video-llava/config/node';
import { Tokenizer, type TokenizerOptions } from './tokenizer.js';
import { VideoLlavaProcessor, type VideoLlavaProcessorOptions } from './video-llava-processor.js';

export * from './index.js';

/**
 * {@link Tokenizer.fromPretrained} from a folder path (or any source).
 *
 * @example
 * ```ts
 * const tokenizer = await loadTokenizer('path/to/checkpoint');
 * ```
 */
export async function loadTokenizer(source: string | ModelSource, options: TokenizerOptions = {}): Promise<Tokenizer> {
  return Tokenizer.fromPretrained(resolveSource(source), options);
}

/**
 * {@link VideoLlavaProcessor.fromPretrained} from a folder path (or any source).
 *
 * @example
 * ```ts
 * const processor = await loadVideoLlavaProcessor('path/to/checkpoint');
 * ```
 */
export async function loadVideoLlavaProcessor(source: string | ModelSource, options: VideoLlavaProcessorOptions = {}): Promise<VideoLlavaProcessor> {
  return VideoLlavaProcessor.fromPretrained(resolveSource(source), options);
}

import type { ModelSource, ReadOptions } from '@video-llava/config';
import { type ResolveSourceOptions, resolveSource } from '@video-llava/config/node';
import { Tokenizer, type TokenizerOptions } from './tokenizer.js';
import { VideoLlavaProcessor, type VideoLlavaProcessorOptions } from './video-llava-processor.js';

export * from './index.js';

/**
 * {@link Tokenizer.fromPretrained} from a folder path, an http(s) URL, a hub id (`org/name[@revision]`) or any
 * source (see `resolveSource` of `@video-llava/config/node`).
 *
 * @example
 * ```ts
 * const tokenizer = await loadTokenizer('path/to/checkpoint');
 * tokenizer.encode('USER: <video>\nWhy is this funny? ASSISTANT:').ids;
 * ```
 */
export async function loadTokenizer(
  source: string | ModelSource,
  options: TokenizerOptions & ReadOptions & ResolveSourceOptions = {},
): Promise<Tokenizer> {
  const { cwd, env, hub, http, ...tokenizerOptions } = options;
  return Tokenizer.fromPretrained(
    resolveSource(source, {
      ...(cwd ? { cwd } : {}),
      ...(env ? { env } : {}),
      ...(hub ? { hub } : {}),
      ...(http ? { http } : {}),
    }),
    tokenizerOptions,
  );
}

/**
 * {@link VideoLlavaProcessor.fromPretrained} from a folder path, an http(s) URL, a hub id or any source.
 *
 * @example
 * ```ts
 * const processor = await loadVideoLlavaProcessor('path/to/checkpoint');
 * const inputs = processor({ text: 'USER: <video>\nWhy is this funny? ASSISTANT:', pixelValuesVideos });
 * ```
 */
export async function loadVideoLlavaProcessor(
  source: string | ModelSource,
  options: VideoLlavaProcessorOptions & ResolveSourceOptions = {},
): Promise<VideoLlavaProcessor> {
  const { cwd, env, hub, http, ...processorOptions } = options;
  return VideoLlavaProcessor.fromPretrained(
    resolveSource(source, {
      ...(cwd ? { cwd } : {}),
      ...(env ? { env } : {}),
      ...(hub ? { hub } : {}),
      ...(http ? { http } : {}),
    }),
    processorOptions,
  );
}

import { loadPretrainedConfig, type PretrainedConfig } from './load.js';
import { type ResolveSourceOptions, resolveSource } from './resolve-source.js';
import type { ModelSource, ReadOptions } from './source.js';

export * from './index.js';
export { DirectorySource } from './directory-source.js';
export { CachedHubSource } from './cached-hub-source.js';
export type { CachedHubSourceOptions } from './cached-hub-source.js';
export { defaultHubCacheDirectory } from './hub-cache-directory.js';
export { resolveSource } from './resolve-source.js';
export type { ResolveSourceOptions } from './resolve-source.js';

/**
 * {@link loadPretrainedConfig} from a folder path, an http(s) URL, a hub id (`org/name[@revision]`) or any
 * source (see {@link resolveSource}).
 */
export async function loadPretrainedConfigFrom(
  source: string | ModelSource,
  options: ReadOptions & ResolveSourceOptions = {},
): Promise<PretrainedConfig> {
  const { onProgress, signal, ...resolveOptions } = options;
  return loadPretrainedConfig(resolveSource(source, resolveOptions), {
    ...(onProgress ? { onProgress } : {}),
    ...(signal ? { signal } : {}),
  });
}

import { loadPretrainedConfig, type PretrainedConfig } from './load.js';
import { DirectorySource } from './directory-source.js';
import type { ModelSource, ReadOptions } from './source.js';

export { DirectorySource } from './directory-source.js';

/**
 * A {@link ModelSource} for a string: a local folder path (Node). Sources pass through unchanged.
 */
export function resolveSource(source: string | ModelSource): ModelSource {
  return typeof source === 'string' ? new DirectorySource(source) : source;
}

/** {@link loadPretrainedConfig} from a folder path or any source. */
export async function loadPretrainedConfigFrom(source: string | ModelSource, options: ReadOptions = {}): Promise<PretrainedConfig> {
  return loadPretrainedConfig(resolveSource(source), options);
}

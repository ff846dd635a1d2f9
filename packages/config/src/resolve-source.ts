import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { CachedHubSource, type CachedHubSourceOptions } from './cached-hub-source.js';
import { DirectorySource } from './directory-source.js';
import type { Environment } from './environment.js';
import { HttpSource, type HttpSourceOptions } from './http-source.js';
import { looksLikeHubId } from './hub-id.js';
import type { ModelSource } from './source.js';

/** Options of {@link resolveSource}. */
export interface ResolveSourceOptions {
  /**
   * The folder relative paths are resolved against.
   * @default process.cwd()
   */
  cwd?: string;
  /**
   * Where `HF_ENDPOINT`, `HF_TOKEN`, `HF_HUB_CACHE`, `HF_HOME` and `HF_HUB_OFFLINE` are read from.
   * @default process.env
   */
  env?: Environment;
  /**
   * Options for a hub id (cache folder, token, offline, ...).
   * @default {}
   */
  hub?: CachedHubSourceOptions;
  /**
   * Options for an http(s) URL (headers, fetch).
   * @default {}
   */
  http?: HttpSourceOptions;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Turns what a user typed into a {@link ModelSource}:
 * - an existing local folder -> `DirectorySource` (a folder wins over a hub id of the same spelling);
 * - `http://...` or `https://...` -> `HttpSource` with that base URL;
 * - `org/name`, `org/name@revision` or `hf://org/name` -> `CachedHubSource` (hub cache on disk);
 * - anything else -> `DirectorySource`, whose first read names the missing file.
 * A `ModelSource` is returned unchanged.
 */
export function resolveSource(source: string | ModelSource, options: ResolveSourceOptions = {}): ModelSource {
  if (typeof source !== 'string') return source;
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  if (/^https?:\/\//i.test(source)) return new HttpSource(source, options.http);
  const localPath = isAbsolute(source) ? source : resolve(cwd, source);
  if (isDirectory(localPath)) return new DirectorySource(localPath);
  if (!source.startsWith('.') && !isAbsolute(source) && looksLikeHubId(source))
    return new CachedHubSource(source, { env, ...options.hub });
  return new DirectorySource(localPath);
}

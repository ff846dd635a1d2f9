import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Environment } from './environment.js';

/**
 * The hub cache folder, found as `huggingface_hub` finds it, so that Python and JavaScript share one cache:
 * `HF_HUB_CACHE`, else `HF_HOME/hub`, else `XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`.
 *
 * @param env the environment to read
 * @default process.env
 */
export function defaultHubCacheDirectory(env: Environment = process.env): string {
  if (env['HF_HUB_CACHE']) return resolve(env['HF_HUB_CACHE']);
  if (env['HF_HOME']) return resolve(env['HF_HOME'], 'hub');
  if (env['XDG_CACHE_HOME']) return resolve(env['XDG_CACHE_HOME'], 'huggingface', 'hub');
  return join(homedir(), '.cache', 'huggingface', 'hub');
}

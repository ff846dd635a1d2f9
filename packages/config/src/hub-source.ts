import { type Environment, processEnvironment } from './environment.js';
import type { FetchFunction } from './download.js';
import { HttpSource } from './http-source.js';
import { parseHubId } from './hub-id.js';

/** The public Hugging Face hub. */
export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

/** Options of a {@link HubSource}. */
export interface HubSourceOptions {
  /**
   * Branch, tag or commit hash. An `@revision` in the repository id is used when this is absent.
   * @default 'main'
   */
  revision?: string;
  /**
   * The hub's base URL (a mirror, a local test server).
   * @default the `HF_ENDPOINT` environment variable, else 'https://huggingface.co'
   */
  endpoint?: string;
  /**
   * An access token for private or gated repositories, sent as `Authorization: Bearer <token>`.
   * @default the `HF_TOKEN` environment variable, else none
   */
  token?: string;
  /**
   * The `fetch` to use.
   * @default globalThis.fetch
   */
  fetch?: FetchFunction;
  /**
   * Where `HF_ENDPOINT`, `HF_TOKEN` (and, for the cached Node source, `HF_HUB_CACHE`, `HF_HOME`,
   * `HF_HUB_OFFLINE`) are read from.
   * @default process.env where it exists, else {}
   */
  env?: Environment;
}

/** The settings a hub source resolved from its options and the environment. */
export interface ResolvedHubSettings {
  repo: string;
  revision: string;
  endpoint: string;
  token: string | undefined;
}

/** Applies the defaults of {@link HubSourceOptions}: option, then environment variable, then built-in default. */
export function resolveHubSettings(id: string, options: HubSourceOptions = {}): ResolvedHubSettings {
  const { repo, revision } = parseHubId(id);
  const env = options.env ?? processEnvironment();
  const endpoint = (options.endpoint ?? (env['HF_ENDPOINT'] || DEFAULT_HUB_ENDPOINT)).replace(/\/+$/, '');
  const token = options.token ?? (env['HF_TOKEN'] || undefined);
  return { repo, revision: options.revision ?? revision ?? 'main', endpoint, token };
}

/**
 * A checkpoint on the Hugging Face hub, read over HTTP without a disk cache: file `path` is
 * `{endpoint}/{repo}/resolve/{revision}/{path}`. Works in browsers and workers; in Node,
 * `CachedHubSource` from `@video-llava/config/node` keeps a hub-compatible cache on disk.
 *
 * @example
 * ```ts
 * const source = new HubSource('LanguageBind/Video-LLaVA-7B-hf');
 * const config = await loadPretrainedConfig(source);
 * ```
 */
export class HubSource extends HttpSource {
  /** `org/name`. */
  readonly repo: string;
  /** Branch, tag or commit hash. */
  readonly revision: string;
  /** The hub's base URL, without a trailing slash. */
  readonly endpoint: string;

  /**
   * @param repo `org/name`, optionally `org/name@revision`
   * @param options endpoint, token, revision, fetch
   */
  constructor(repo: string, options: HubSourceOptions = {}) {
    const settings = resolveHubSettings(repo, options);
    super(`${settings.endpoint}/${settings.repo}/resolve/${encodeURIComponent(settings.revision)}/`, {
      headers: settings.token ? { Authorization: `Bearer ${settings.token}` } : {},
      ...(options.fetch ? { fetch: options.fetch } : {}),
      accessHint: `The repository may be private or gated, or may not exist: set HF_TOKEN (or options.token) to a token with access to ${settings.repo}.`,
    });
    this.repo = settings.repo;
    this.revision = settings.revision;
    this.endpoint = settings.endpoint;
  }
}

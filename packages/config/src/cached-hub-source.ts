import { copyFile, mkdir, open, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { VideoLlavaError } from '@video-llava/core';
import {
  type TransferTarget,
  discardBody,
  fileNotFoundError,
  integerHeader,
  request,
  statusError,
  streamBody,
} from './download.js';
import { defaultHubCacheDirectory } from './hub-cache-directory.js';
import { HubSource, type HubSourceOptions } from './hub-source.js';
import { splitRelativePath } from './relative-path.js';
import type { ReadOptions } from './source.js';

/** Options of a {@link CachedHubSource}. */
export interface CachedHubSourceOptions extends HubSourceOptions {
  /**
   * The hub cache folder (shared with Python's `huggingface_hub` when it is the same folder).
   * @default `HF_HUB_CACHE`, else `HF_HOME/hub`, else `XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`
   */
  cacheDirectory?: string;
  /**
   * Never touch the network: files come from the cache or are `FILE_NOT_FOUND`.
   * @default true when the `HF_HUB_OFFLINE` environment variable is `1`, `true`, `yes` or `on`
   */
  offline?: boolean;
  /**
   * Ask the hub which commit a branch or tag points to on every read, instead of trusting the commit the cache
   * recorded (`refs/<revision>`). When the hub cannot be reached, the cached copy is used. A commit-hash revision
   * never needs a check.
   * @default false
   */
  checkForUpdates?: boolean;
}

/** What the cache and the hub say about one file. */
type Probe =
  | { kind: 'cached'; localPath: string }
  | { kind: 'missing'; actual: string; detail: string }
  | { kind: 'remote'; commit: string; etag: string; size: number | undefined; snapshotPath: string };

/** What a HEAD request to the hub said about a file. */
type Metadata =
  | { kind: 'found'; commit: string; etag: string; size: number | undefined }
  | { kind: 'missing'; commit: string | undefined; message: string };

const COMMIT_PATTERN = /^[0-9a-f]{40}$/;
const SAFE_SEGMENT = /^[\w.-]+$/;
const MAX_RELATIVE_REDIRECTS = 5;

function isTruthy(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.trim().toLowerCase());
}

function isRelativeLocation(location: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(location) && !location.startsWith('//');
}

/** `W/"abc"` -> `abc`; anything unsafe in a file name becomes `_`. */
function normalizeEtag(value: string): string {
  const bare = value
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
  return bare.replace(/[^\w.-]/g, '_');
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.size : undefined;
  } catch {
    return undefined;
  }
}

function contentRangeStart(response: Response): number | undefined {
  const match = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(response.headers.get('content-range')?.trim() ?? '');
  return match ? Number(match[1]) : undefined;
}

async function writeFully(handle: Awaited<ReturnType<typeof open>>, chunk: Uint8Array): Promise<void> {
  let written = 0;
  while (written < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, written, chunk.byteLength - written);
    written += bytesWritten;
  }
}

/**
 * A checkpoint on the Hugging Face hub with a local cache laid out like `huggingface_hub`'s, so Python and
 * JavaScript share downloads:
 *
 * ```
 * {cacheDirectory}/models--{org}--{name}/
 *   refs/{revision}              the commit a branch or tag pointed to
 *   blobs/{etag}                 file contents (blobs/{etag}.incomplete while downloading)
 *   snapshots/{commit}/{path}    a relative symlink to the blob (a copy where symlinks are not allowed)
 *   .no_exist/{commit}/{path}    remembers that the file is absent at that commit
 * ```
 *
 * A file already in the cache is read without any request (unless `checkForUpdates`). A download writes to
 * `blobs/{etag}.incomplete` and resumes from it with a `Range` request after an interruption (starting over
 * when the server ignores `Range`); the blob only takes its final name after its size has been checked
 * against the hub's, so an interrupted or truncated download never leaves a corrupt cache entry.
 *
 * @example
 * ```ts
 * const source = new CachedHubSource('LanguageBind/Video-LLaVA-7B-hf', { revision: 'main' });
 * const weightsPath = await source.localPath('model.safetensors', { onProgress: console.log });
 * ```
 */
export class CachedHubSource extends HubSource {
  /** The hub cache folder. */
  readonly cacheDirectory: string;
  /** This repository's folder in the cache (`models--{org}--{name}`). */
  readonly repositoryFolder: string;
  /** Whether the network is off limits. */
  readonly offline: boolean;
  /** Whether branch and tag revisions are re-resolved on every read. */
  readonly checkForUpdates: boolean;
  private readonly revisionSegments: string[];
  private readonly inFlight = new Map<string, Promise<{ localPath: string; downloaded: boolean }>>();

  constructor(repo: string, options: CachedHubSourceOptions = {}) {
    super(repo, options);
    const env = options.env ?? process.env;
    this.cacheDirectory = resolve(options.cacheDirectory ?? defaultHubCacheDirectory(env));
    this.repositoryFolder = join(this.cacheDirectory, `models--${this.repo.split('/').join('--')}`);
    this.offline = options.offline ?? isTruthy(env['HF_HUB_OFFLINE']);
    this.checkForUpdates = options.checkForUpdates ?? false;
    this.revisionSegments = this.revision.split('/');
    if (
      this.revisionSegments.some(
        (segment) => segment === '' || segment === '.' || segment === '..' || segment.includes('\\'),
      )
    ) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `Revision ${JSON.stringify(this.revision)} cannot name a folder of the hub cache.`,
        {
          field: 'revision',
          expected: 'a branch, tag or commit hash without empty, "." or ".." segments',
          actual: this.revision,
        },
      );
    }
  }

  private get revisionIsCommit(): boolean {
    return COMMIT_PATTERN.test(this.revision);
  }

  /** The commit the cache recorded for this revision, if any. */
  private async cachedCommit(): Promise<string | undefined> {
    if (this.revisionIsCommit) return this.revision;
    try {
      const text = (await readFile(join(this.repositoryFolder, 'refs', ...this.revisionSegments), 'utf8')).trim();
      return SAFE_SEGMENT.test(text) && text !== '.' && text !== '..' ? text : undefined;
    } catch {
      return undefined;
    }
  }

  private async writeRef(commit: string): Promise<void> {
    if (this.revision === commit) return;
    const refPath = join(this.repositoryFolder, 'refs', ...this.revisionSegments);
    const current = await readFile(refPath, 'utf8').catch(() => undefined);
    if (current?.trim() === commit) return;
    await mkdir(dirname(refPath), { recursive: true });
    await writeFile(refPath, commit);
  }

  private snapshotPath(commit: string, segments: string[]): string {
    return join(this.repositoryFolder, 'snapshots', commit, ...segments);
  }

  private noExistPath(commit: string, segments: string[]): string {
    return join(this.repositoryFolder, '.no_exist', commit, ...segments);
  }

  /** A cache hit (the file, or the memory that it is absent) at `commit`. */
  private async fromCache(commit: string, segments: string[]): Promise<Probe | undefined> {
    const snapshot = this.snapshotPath(commit, segments);
    if ((await fileSize(snapshot)) !== undefined) return { kind: 'cached', localPath: snapshot };
    if ((await fileSize(this.noExistPath(commit, segments))) !== undefined) {
      return {
        kind: 'missing',
        actual: 'HTTP 404',
        detail: `the hub cache at ${this.repositoryFolder} remembers that commit ${commit} has no such file`,
      };
    }
    return undefined;
  }

  /** Asks the hub about a file with HEAD, following only relative redirects (a renamed repository), like huggingface_hub. */
  private async fetchMetadata(target: TransferTarget, options: ReadOptions): Promise<Metadata> {
    let url = target.url;
    for (let hop = 0; hop <= MAX_RELATIVE_REDIRECTS; hop++) {
      const response = await request(
        this.fetchFunction,
        { ...target, url },
        { method: 'HEAD', headers: { ...this.headers, 'Accept-Encoding': 'identity' }, redirect: 'manual' },
        options,
      );
      await discardBody(response);
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location !== null && isRelativeLocation(location)) {
        url = new URL(location, url).href;
        continue;
      }
      if (response.status === 404) {
        const commit = response.headers.get('x-repo-commit') ?? undefined;
        return {
          kind: 'missing',
          commit: commit && SAFE_SEGMENT.test(commit) ? commit : undefined,
          message: response.headers.get('x-error-message') ?? '',
        };
      }
      // A large (LFS) file answers with a redirect to a CDN; the hub's own headers describe it.
      if (!(response.ok || (response.status >= 300 && response.status < 400)))
        throw statusError({ ...target, url }, response, 'HTTP 200 or a redirect');
      const commit = response.headers.get('x-repo-commit');
      const etagHeader = response.headers.get('x-linked-etag') ?? response.headers.get('etag');
      if (commit === null || etagHeader === null || !SAFE_SEGMENT.test(commit) || commit === '.' || commit === '..') {
        throw new VideoLlavaError(
          'DOWNLOAD_FAILED',
          `${url}: the server did not send ${commit === null ? 'an X-Repo-Commit' : etagHeader === null ? 'an ETag' : 'a usable X-Repo-Commit'} header, so it does not look like a Hugging Face hub and its files cannot be cached safely (use HttpSource for a plain web server).`,
          {
            file: url,
            field: commit === null ? 'x-repo-commit' : 'etag',
            expected: 'the headers a Hugging Face hub sends (X-Repo-Commit, ETag)',
            actual: commit ?? etagHeader ?? 'missing',
          },
        );
      }
      return {
        kind: 'found',
        commit,
        etag: normalizeEtag(etagHeader),
        size: integerHeader(response, 'x-linked-size') ?? integerHeader(response, 'content-length'),
      };
    }
    throw new VideoLlavaError('DOWNLOAD_FAILED', `${target.url}: more than ${MAX_RELATIVE_REDIRECTS} redirects.`, {
      file: target.url,
      field: 'location',
      expected: `at most ${MAX_RELATIVE_REDIRECTS} redirects`,
      actual: url,
    });
  }

  /** Where a file stands: in the cache, absent, or on the hub only. Makes at most one HEAD request, never a download. */
  private async probe(path: string, options: ReadOptions): Promise<Probe> {
    const segments = splitRelativePath(path);
    const target = this.target(path);
    const known = await this.cachedCommit();
    const trustCache = this.revisionIsCommit || !this.checkForUpdates || this.offline;
    if (known !== undefined && trustCache) {
      const hit = await this.fromCache(known, segments);
      if (hit) return hit;
    }
    if (this.offline) {
      return {
        kind: 'missing',
        actual: 'not in the cache',
        detail: `offline mode (HF_HUB_OFFLINE) is on and the hub cache at ${this.repositoryFolder} has no copy for revision ${this.revision}`,
      };
    }
    let metadata: Metadata;
    try {
      metadata = await this.fetchMetadata(target, options);
    } catch (error) {
      // Like huggingface_hub: when the hub cannot be reached, a cached copy is better than nothing.
      if (
        known !== undefined &&
        VideoLlavaError.isInstance(error) &&
        error.code === 'DOWNLOAD_FAILED' &&
        error.field === 'network'
      ) {
        const hit = await this.fromCache(known, segments);
        if (hit) return hit;
      }
      throw error;
    }
    if (metadata.kind === 'missing') {
      const commit = metadata.commit ?? known;
      if (commit !== undefined) {
        if (metadata.commit !== undefined) await this.writeRef(metadata.commit);
        const marker = this.noExistPath(commit, segments);
        await mkdir(dirname(marker), { recursive: true });
        await writeFile(marker, '');
      }
      return { kind: 'missing', actual: 'HTTP 404', detail: metadata.message };
    }
    await this.writeRef(metadata.commit);
    const snapshotPath = this.snapshotPath(metadata.commit, segments);
    if ((await fileSize(snapshotPath)) !== undefined) return { kind: 'cached', localPath: snapshotPath };
    return { kind: 'remote', commit: metadata.commit, etag: metadata.etag, size: metadata.size, snapshotPath };
  }

  /**
   * Downloads into `blobs/{etag}.incomplete` (resuming what is there), checks the size, then renames it to
   * `blobs/{etag}`.
   */
  private async downloadBlob(
    target: TransferTarget,
    blobPath: string,
    expectedSize: number | undefined,
    options: ReadOptions,
  ): Promise<void> {
    const incomplete = `${blobPath}.incomplete`;
    await mkdir(dirname(blobPath), { recursive: true });
    for (let attempt = 0; ; attempt++) {
      let offset = (await fileSize(incomplete)) ?? 0;
      if (expectedSize !== undefined && offset > expectedSize) {
        await rm(incomplete, { force: true });
        offset = 0;
      }
      if (expectedSize !== undefined && offset === expectedSize && offset > 0) break;
      const headers: Record<string, string> = { ...this.headers, 'Accept-Encoding': 'identity' };
      if (offset > 0) headers['Range'] = `bytes=${offset}-`;
      const response = await request(
        this.fetchFunction,
        target,
        { method: 'GET', headers, redirect: 'follow' },
        options,
      );
      if (response.status === 404) {
        await discardBody(response);
        throw fileNotFoundError(target, 'HTTP 404', response.headers.get('x-error-message') ?? '');
      }
      let append = false;
      if (
        offset > 0 &&
        (response.status === 416 || (response.status === 206 && contentRangeStart(response) !== offset))
      ) {
        // The partial file does not fit what the server has: start over once.
        await discardBody(response);
        await rm(incomplete, { force: true });
        if (attempt === 0) continue;
        throw statusError(target, response, `HTTP 206 from byte ${offset}`);
      }
      if (response.status === 206 && offset > 0) append = true;
      else if (response.status === 200)
        offset = 0; // a server that ignores Range sends the whole file: start over
      else {
        await discardBody(response);
        throw statusError(target, response, offset > 0 ? 'HTTP 206 or 200' : 'HTTP 200');
      }
      const handle = await open(incomplete, append ? 'a' : 'w');
      try {
        await streamBody(
          response,
          target,
          {
            write: (chunk) => writeFully(handle, chunk),
            offset,
            ...(expectedSize === undefined ? {} : { total: expectedSize }),
          },
          options,
        );
      } finally {
        await handle.close();
      }
      break;
    }
    const size = (await fileSize(incomplete)) ?? 0;
    if (expectedSize !== undefined && size !== expectedSize) {
      await rm(incomplete, { force: true });
      throw new VideoLlavaError(
        'DOWNLOAD_FAILED',
        `${target.url}: downloaded ${size} bytes but the hub says the file has ${expectedSize}; the partial file was removed.`,
        {
          file: target.url,
          field: 'size',
          expected: expectedSize,
          actual: size,
        },
      );
    }
    await rename(incomplete, blobPath);
  }

  private async linkSnapshot(blobPath: string, snapshotPath: string): Promise<void> {
    await mkdir(dirname(snapshotPath), { recursive: true });
    await rm(snapshotPath, { force: true });
    try {
      await symlink(relative(dirname(snapshotPath), blobPath), snapshotPath);
    } catch {
      // Windows without developer mode, some network drives: a copy works everywhere.
      await copyFile(blobPath, snapshotPath);
    }
  }

  private async materialize(path: string, options: ReadOptions): Promise<{ localPath: string; downloaded: boolean }> {
    const probe = await this.probe(path, options);
    if (probe.kind === 'cached') return { localPath: probe.localPath, downloaded: false };
    const target = this.target(path);
    if (probe.kind === 'missing') throw fileNotFoundError(target, probe.actual, probe.detail);
    const blobPath = join(this.repositoryFolder, 'blobs', probe.etag);
    const blobSize = await fileSize(blobPath);
    if (blobSize === undefined || (probe.size !== undefined && blobSize !== probe.size)) {
      await this.downloadBlob(target, blobPath, probe.size, options);
    }
    await this.linkSnapshot(blobPath, probe.snapshotPath);
    return { localPath: probe.snapshotPath, downloaded: true };
  }

  /** Downloads a file into the cache if needed (once per file, even when asked concurrently); returns its snapshot path. */
  private materializeOnce(path: string, options: ReadOptions): Promise<{ localPath: string; downloaded: boolean }> {
    const pending = this.inFlight.get(path);
    if (pending) return pending;
    const started = this.materialize(path, options)
      .catch((error: unknown) => {
        if (VideoLlavaError.isInstance(error)) throw error;
        const code = (error as NodeJS.ErrnoException).code ?? 'error';
        throw new VideoLlavaError(
          'INVALID_FILE',
          `The hub cache at ${this.repositoryFolder} cannot be used for ${path} (${code}: ${(error as Error).message}).`,
          {
            file: this.repositoryFolder,
            field: path,
            expected: 'a writable cache folder',
            actual: code,
            cause: error,
          },
        );
      })
      .finally(() => this.inFlight.delete(path));
    this.inFlight.set(path, started);
    return started;
  }

  override async exists(path: string, options: ReadOptions = {}): Promise<boolean> {
    const probe = await this.probe(path, options);
    return probe.kind !== 'missing';
  }

  override async readBytes(path: string, options: ReadOptions = {}): Promise<Uint8Array> {
    const { localPath, downloaded } = await this.materializeOnce(path, options);
    const bytes = await readFile(localPath);
    if (!downloaded)
      options.onProgress?.({ stage: 'read', file: path, done: bytes.length, total: bytes.length, unit: 'bytes' });
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The file's path in the cache's snapshot folder, downloading it first when needed; undefined when the hub has no such file. */
  async localPath(path: string, options: ReadOptions = {}): Promise<string | undefined> {
    try {
      return (await this.materializeOnce(path, options)).localPath;
    } catch (error) {
      if (VideoLlavaError.isInstance(error) && error.code === 'FILE_NOT_FOUND') return undefined;
      throw error;
    }
  }
}

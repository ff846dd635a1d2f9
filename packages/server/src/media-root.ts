import { constants } from 'node:fs';
import { type FileHandle, open, readlink, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpError, invalidRequest } from './openai-error.js';

/**
 * The two file-system calls the media root makes, injectable so that a test can record every path the server
 * touches. `realpath` only resolves names; `open` is the one call that opens a file.
 */
export interface MediaFileSystem {
  realpath(path: string): Promise<string>;
  open(path: string, flags: number): Promise<FileHandle>;
}

/** node:fs/promises. */
export const nodeMediaFileSystem: MediaFileSystem = {
  realpath: (path) => realpath(path),
  open: (path, flags) => open(path, flags),
};

function outside(reference: string, param: string): HttpError {
  return new HttpError(
    403,
    'permission_error',
    `${JSON.stringify(reference)} is outside the media root: media paths must name a file under --media-root (symbolic links are followed and must stay inside it).`,
    {
      param,
      code: 'media_outside_root',
    },
  );
}

/** Whether `path` is `root` itself or lies under it (both absolute and normalized). */
function isInside(root: string, path: string): boolean {
  const rest = relative(root, path);
  return rest === '' || (!rest.startsWith(`..${sep}`) && rest !== '..' && !isAbsolute(rest));
}

// Percent-encoded separators or dots in a path are a way around a check on `..` and `/`: refused outright.
const ENCODED_TRAVERSAL = /%2f|%5c|%2e|%00/i;

/**
 * The folder media paths are resolved in (`--media-root`): a relative path (`clips/a.mp4`) is resolved against it,
 * an absolute path or a `file:` URL must already lie inside it. Every path is checked twice: by name (`..`,
 * absolute paths elsewhere, encoded separators) before anything touches the disk, and after `realpath` (symbolic
 * links that lead out), and the file opened is checked once more by what the kernel says it opened, so nothing
 * outside the root is ever read.
 */
export class MediaRoot {
  /** The root as given, resolved to an absolute path. */
  readonly root: string;
  /** The root with its symbolic links resolved. */
  readonly realRoot: string;
  readonly #fileSystem: MediaFileSystem;

  private constructor(root: string, realRoot: string, fileSystem: MediaFileSystem) {
    this.root = root;
    this.realRoot = realRoot;
    this.#fileSystem = fileSystem;
  }

  /**
   * @param root the folder (relative to the working directory)
   * @throws HttpError never; a `VideoLlavaError`-free `Error` when the folder does not exist (a setup mistake)
   */
  static async create(root: string, fileSystem: MediaFileSystem = nodeMediaFileSystem): Promise<MediaRoot> {
    const absolute = resolve(root);
    let real: string;
    try {
      real = await fileSystem.realpath(absolute);
    } catch (error) {
      throw new Error(
        `The media root ${absolute} does not exist (${(error as NodeJS.ErrnoException).code ?? String(error)}).`,
        { cause: error },
      );
    }
    return new MediaRoot(absolute, real, fileSystem);
  }

  /**
   * The absolute path a reference names, checked by name only.
   * @throws HttpError 400 for a malformed reference, 403 for one outside the root
   */
  resolveName(reference: string, param: string): string {
    if (reference.includes('\0'))
      throw invalidRequest(`${param} contains a NUL character.`, param, 'invalid_media_path');
    if (ENCODED_TRAVERSAL.test(reference)) throw outside(reference, param);
    let path: string;
    if (/^file:/i.test(reference)) {
      let url: URL;
      try {
        url = new URL(reference);
        path = fileURLToPath(url);
      } catch (error) {
        throw invalidRequest(
          `${JSON.stringify(reference)} is not a valid file: URL (${(error as Error).message}).`,
          param,
          'invalid_media_path',
        );
      }
    } else path = reference;
    if (path === '')
      throw invalidRequest(`${param} is empty: give a path under the media root.`, param, 'invalid_media_path');
    const absolute = isAbsolute(path) ? resolve(path) : resolve(this.root, path);
    // An absolute path may name the root as configured or as resolved; either way it is rebased on the real root.
    if (isInside(this.root, absolute)) return join(this.realRoot, relative(this.root, absolute));
    if (isInside(this.realRoot, absolute)) return absolute;
    throw outside(reference, param);
  }

  /**
   * Reads the file a reference names.
   * @throws HttpError 400 (malformed, missing, not a regular file), 403 (outside the root)
   */
  async read(reference: string, param: string): Promise<Uint8Array> {
    const named = this.resolveName(reference, param);
    let real: string;
    try {
      real = await this.#fileSystem.realpath(named);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR')
        throw invalidRequest(`No file ${JSON.stringify(reference)} under the media root.`, param, 'media_not_found');
      throw invalidRequest(
        `${JSON.stringify(reference)} cannot be read (${code ?? String(error)}).`,
        param,
        'media_unreadable',
      );
    }
    if (!isInside(this.realRoot, real)) throw outside(reference, param);
    let handle: FileHandle;
    try {
      // O_NOFOLLOW: a last component swapped for a link after realpath is refused; O_NONBLOCK: a FIFO never hangs.
      handle = await this.#fileSystem.open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (error) {
      throw invalidRequest(
        `${JSON.stringify(reference)} cannot be opened (${(error as NodeJS.ErrnoException).code ?? String(error)}).`,
        param,
        'media_unreadable',
      );
    }
    try {
      // What the kernel opened, where it can say (Linux): a folder on the way swapped for a link is caught here.
      const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => real);
      if (!isInside(this.realRoot, opened)) throw outside(reference, param);
      const stats = await handle.stat();
      if (!stats.isFile())
        throw invalidRequest(`${JSON.stringify(reference)} is not a regular file.`, param, 'media_unreadable');
      return new Uint8Array(await handle.readFile());
    } finally {
      await handle.close();
    }
  }
}

import { access, readFile, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { VideoLlavaError } from '@video-llava/core';
import { splitRelativePath } from './relative-path.js';
import type { ModelSource, ReadOptions } from './source.js';

/** A checkpoint in a local folder. */
export class DirectorySource implements ModelSource {
  readonly root: string;
  readonly description: string;

  /** @param root the checkpoint folder (relative paths resolve against the working directory) */
  constructor(root: string) {
    this.root = resolve(root);
    this.description = this.root;
  }

  private resolvePath(path: string): string {
    splitRelativePath(path);
    const full = resolve(this.root, path);
    if (full !== this.root && !full.startsWith(this.root + sep)) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `Path ${JSON.stringify(path)} leaves the model folder ${this.root}.`,
        {
          field: 'path',
          expected: 'a path inside the model folder',
          actual: path,
        },
      );
    }
    return full;
  }

  /** @throws VideoLlavaError `FILE_NOT_FOUND` when the model folder itself is missing (or is a file) */
  async exists(path: string): Promise<boolean> {
    const full = this.resolvePath(path);
    try {
      await access(full);
      return true;
    } catch (error) {
      await this.checkRoot(error);
      return false;
    }
  }

  async readBytes(path: string, options: ReadOptions = {}): Promise<Uint8Array> {
    const full = this.resolvePath(path);
    try {
      const bytes = await readFile(full, options.signal ? { signal: options.signal } : {});
      options.onProgress?.({ stage: 'read', file: path, done: bytes.length, total: bytes.length, unit: 'bytes' });
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        await this.checkRoot(error);
        throw new VideoLlavaError(
          'FILE_NOT_FOUND',
          `${full}: no such file (the model folder ${this.root} has no ${path}).`,
          {
            file: full,
            field: path,
            expected: 'an existing file',
            actual: 'missing',
            cause: error,
          },
        );
      }
      throw new VideoLlavaError('INVALID_FILE', `${full}: cannot be read (${(error as Error).message}).`, {
        file: full,
        cause: error,
      });
    }
  }

  /** A missing file of a missing folder is reported as the missing folder (or a file where the folder should be). */
  private async checkRoot(cause: unknown): Promise<void> {
    let isFolder: boolean;
    try {
      isFolder = (await stat(this.root)).isDirectory();
    } catch {
      throw new VideoLlavaError(
        'FILE_NOT_FOUND',
        `${this.root}: no such model folder (nothing exists at that path; check the spelling and the working folder).`,
        {
          file: this.root,
          expected: 'an existing model folder',
          actual: 'missing',
          cause,
        },
      );
    }
    if (!isFolder) {
      throw new VideoLlavaError(
        'FILE_NOT_FOUND',
        `${this.root} is a file, not a model folder; give the folder that holds config.json.`,
        {
          file: this.root,
          expected: 'a model folder',
          actual: 'a file',
          cause,
        },
      );
    }
  }

  async readText(path: string, options: ReadOptions = {}): Promise<string> {
    return new TextDecoder().decode(await this.readBytes(path, options));
  }

  async localPath(path: string): Promise<string | undefined> {
    const full = this.resolvePath(path);
    return (await this.exists(path)) ? full : undefined;
  }
}

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type MediaFileSystem, MediaRoot, nodeMediaFileSystem } from './media-root.js';
import { HttpError } from './openai-error.js';

const base = mkdtempSync(join(tmpdir(), 'media-root-'));
const root = join(base, 'root');
mkdirSync(join(root, 'sub'), { recursive: true });
writeFileSync(join(root, 'sub', 'in.bin'), 'inside');
writeFileSync(join(base, 'secret.bin'), 'secret');
symlinkSync(join(base, 'secret.bin'), join(root, 'link-out.bin'));
symlinkSync(join(root, 'sub', 'in.bin'), join(root, 'link-in.bin'));
// The root itself reached through a link: absolute paths through either spelling are inside.
symlinkSync(root, join(base, 'root-alias'));

afterAll(() => rmSync(base, { recursive: true, force: true }));

function recording(): { fileSystem: MediaFileSystem; opened: string[] } {
  const opened: string[] = [];
  return {
    opened,
    fileSystem: {
      realpath: nodeMediaFileSystem.realpath,
      open: (path, flags) => (opened.push(path), nodeMediaFileSystem.open(path, flags)),
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<HttpError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(HttpError);
  return error as HttpError;
}

describe('MediaRoot', () => {
  it('reads relative paths, absolute paths and file: URLs inside the root, and links that stay inside', async () => {
    const { fileSystem, opened } = recording();
    const media = await MediaRoot.create(join(base, 'root-alias'), fileSystem);
    for (const reference of [
      'sub/in.bin',
      './sub/../sub/in.bin',
      join(root, 'sub', 'in.bin'),
      join(base, 'root-alias', 'sub', 'in.bin'),
      `file://${root}/sub/in.bin`,
      'link-in.bin',
    ]) {
      expect(new TextDecoder().decode(await media.read(reference, 'p')), reference).toBe('inside');
    }
    expect(new Set(opened)).toEqual(new Set([join(root, 'sub', 'in.bin')]));
  });

  it('refuses every way out, before opening anything', async () => {
    const { fileSystem, opened } = recording();
    const media = await MediaRoot.create(root, fileSystem);
    for (const reference of [
      '../secret.bin',
      'sub/../../secret.bin',
      join(base, 'secret.bin'),
      `file://${base}/secret.bin`,
      'link-out.bin',
      '..%2Fsecret.bin',
      'sub%2f..%2f..%2fsecret.bin',
      `file://${root}/sub/..%2F..%2Fsecret.bin`,
      `file://${root}/%2e%2e/secret.bin`,
      '/etc/passwd',
    ]) {
      const error = await failure(media.read(reference, 'messages[0].content[0].video_url.url'));
      expect(error.status, reference).toBe(403);
      expect(error.code).toBe('media_outside_root');
      expect(error.param).toBe('messages[0].content[0].video_url.url');
    }
    expect(opened).toEqual([]);
  });

  it('says what is wrong with a missing file, a folder, an empty path and a NUL byte', async () => {
    const media = await MediaRoot.create(root);
    expect((await failure(media.read('sub/missing.bin', 'p'))).code).toBe('media_not_found');
    expect((await failure(media.read('sub', 'p'))).code).toBe('media_unreadable');
    expect((await failure(media.read('', 'p'))).code).toBe('invalid_media_path');
    expect((await failure(media.read('sub/in.bin\0x', 'p'))).code).toBe('invalid_media_path');
    await expect(MediaRoot.create(join(base, 'nowhere'))).rejects.toThrow(/does not exist/);
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileLocator } from '@video-llava/runtime/testing';

/** Fresh folders under the OS temp folder for test files, removed by `removeAll`. */
export function temporaryFolders(): { place(files: Readonly<Record<string, Uint8Array>>): Promise<FileLocator>; folder(): Promise<string>; removeAll(): Promise<void> } {
  const folders: string[] = [];
  const folder = async (): Promise<string> => {
    const created = await mkdtemp(join(tmpdir(), 'video-llava-runtime-web-'));
    folders.push(created);
    return created;
  };
  return {
    folder,
    async place(files) {
      const created = await folder();
      await Promise.all(Object.entries(files).map(([name, bytes]) => writeFile(join(created, name), bytes)));
      return (name) => join(created, name);
    },
    async removeAll() {
      await Promise.all(folders.splice(0).map((created) => rm(created, { recursive: true, force: true })));
    },
  };
}

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileLocator } from '@video-llava/runtime/testing';

/** Fresh folders under the OS temp folder for the conformance suite's files, removed by `removeAll`. */
export function temporaryFolders(): { place(files: Readonly<Record<string, Uint8Array>>): Promise<FileLocator>; removeAll(): Promise<void> } {
  const folders: string[] = [];
  return {
    async place(files) {
      const folder = await mkdtemp(join(tmpdir(), 'video-llava-runtime-node-'));
      folders.push(folder);
      await Promise.all(Object.entries(files).map(([name, bytes]) => writeFile(join(folder, name), bytes)));
      return (name) => join(folder, name);
    },
    async removeAll() {
      await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
    },
  };
}

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Folders a test creates under the OS temp folder, each removed by `removeAll`. */
export interface TemporaryFolders {
  /** A fresh empty folder. */
  folder(): Promise<string>;
  /** A fresh folder holding `files` (name to bytes); returns where each name now lies. */
  place(files: Readonly<Record<string, Uint8Array>>): Promise<(name: string) => string>;
  /** Removes every folder made so far (call it in `afterAll`). */
  removeAll(): Promise<void>;
}

/** Temporary folders named `<prefix>XXXXXX` under the OS temp folder. */
export function temporaryFolders(prefix: string): TemporaryFolders {
  const folders: string[] = [];
  const folder = async (): Promise<string> => {
    const created = await mkdtemp(join(tmpdir(), prefix));
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

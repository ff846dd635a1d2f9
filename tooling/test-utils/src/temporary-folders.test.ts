import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { temporaryFolders } from './temporary-folders.js';

describe('temporaryFolders', () => {
  it('places files in fresh folders and removes them all', async () => {
    const folders = temporaryFolders('video-llava-test-utils-');
    const locate = await folders.place({ 'a.bin': Uint8Array.of(1, 2, 3) });
    const empty = await folders.folder();
    expect(readFileSync(locate('a.bin'))).toEqual(Buffer.from([1, 2, 3]));
    expect(locate('a.bin')).toContain('video-llava-test-utils-');
    expect(existsSync(empty)).toBe(true);
    await folders.removeAll();
    expect(existsSync(locate('a.bin'))).toBe(false);
    expect(existsSync(empty)).toBe(false);
  });
});

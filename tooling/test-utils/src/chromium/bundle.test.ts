import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForBrowser } from './bundle.js';

describe('bundleForBrowser', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'video-llava-test-utils-bundle-'));
    await writeFile(join(folder, 'helper.ts'), 'export const answer: number = 42;\n');
    await writeFile(
      join(folder, 'entry.ts'),
      "import { answer } from './helper.js';\nimport { thing } from 'left-alone';\n(globalThis as any).result = [answer, thing];\n",
    );
  });
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('bundles TypeScript into one module, leaving the external imports', async () => {
    const script = await bundleForBrowser(join(folder, 'entry.ts'), { external: ['left-alone'] });
    expect(script).toContain('42');
    expect(script).toMatch(/from\s*"left-alone"/);
    expect(script).not.toContain('./helper');
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

/**
 * The vitest `globalSetup` of `convertedFixture`: makes the folder the fixture is converted into once per test run,
 * and removes it afterwards. The conversion itself runs in the first test worker that needs it: this file runs in
 * vitest's main process, where workspace packages do not resolve through the `@video-llava/source` condition
 * (vitest-dev/vitest#9429) and would load a stale or missing build of the converter.
 */
export default function setup(project: TestProject): () => void {
  const root = mkdtempSync(join(tmpdir(), 'video-llava-fixture-'));
  // The key of ./index.ts (not imported: that module imports vitest's worker-side `inject`).
  (project.provide as (key: string, value: unknown) => void)('convertedFixtureRoot', root);
  return () => rmSync(root, { recursive: true, force: true });
}

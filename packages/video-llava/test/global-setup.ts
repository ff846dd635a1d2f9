import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertCheckpoint } from '@video-llava/converter/node';
import { tinyFixture } from '@video-llava/test-utils';
import type { TestProject } from 'vitest/node';

/** The key under which the converted folder is provided to the tests (read it with `convertedFixture()`). */
export const CONVERTED_FIXTURE_KEY = 'tinyModelFp32';

/** Converts fixtures/video-llava-tiny/model (fp32) once for the whole test run; every test file reads the result. */
export default async function setup(project: TestProject): Promise<() => void> {
  const root = mkdtempSync(join(tmpdir(), 'video-llava-fixture-'));
  const output = join(root, 'video-llava-tiny-onnx');
  await convertCheckpoint(tinyFixture.model, output, { dtypes: ['fp32'] });
  (project.provide as (key: string, value: unknown) => void)(CONVERTED_FIXTURE_KEY, output);
  return () => rmSync(root, { recursive: true, force: true });
}

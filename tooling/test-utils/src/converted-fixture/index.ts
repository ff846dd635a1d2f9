import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import { tinyFixture } from '../fixtures.js';

/** The key under which `converted-fixture/setup` provides the folder the fixture is converted into. */
export const CONVERTED_FIXTURE_ROOT_KEY = 'convertedFixtureRoot';

const WAIT_MS = 120_000;

/**
 * fixtures/video-llava-tiny/model converted to ONNX (fp32), a complete model folder: converted once per test run by
 * the first worker that asks (a lock folder keeps the others waiting), then shared by every test file. Needs
 * `@video-llava/test-utils/converted-fixture/setup` as the package's vitest `globalSetup`.
 *
 * @param convert the converter (`(input, output) => convertCheckpoint(input, output, { dtypes: ['fp32'] })` of
 *   `@video-llava/converter/node`), passed in because test-utils may import no package but core
 */
export async function convertedFixture(
  convert: (checkpoint: string, output: string) => Promise<unknown>,
): Promise<string> {
  const root = (inject as unknown as (key: string) => string)(CONVERTED_FIXTURE_ROOT_KEY);
  if (typeof root !== 'string')
    throw new Error('convertedFixture needs @video-llava/test-utils/converted-fixture/setup in the vitest globalSetup');
  const output = join(root, 'video-llava-tiny-onnx');
  const done = join(root, 'done');
  const failed = join(root, 'failed');
  if (existsSync(done)) return output;
  let owner = true;
  try {
    mkdirSync(join(root, 'lock'));
  } catch {
    owner = false;
  }
  if (owner) {
    try {
      await convert(tinyFixture.model, output);
      writeFileSync(done, '');
      return output;
    } catch (error) {
      writeFileSync(failed, String(error instanceof Error ? (error.stack ?? error.message) : error));
      throw error;
    }
  }
  for (const start = Date.now(); Date.now() - start < WAIT_MS; await sleep(50)) {
    if (existsSync(done)) return output;
    if (existsSync(failed))
      throw new Error(`converting the fixture failed in another worker:\n${readFileSync(failed, 'utf8')}`);
  }
  throw new Error(`the fixture was not converted within ${WAIT_MS / 1000} s`);
}

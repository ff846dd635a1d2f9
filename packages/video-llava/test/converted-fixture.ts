import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { convertCheckpoint } from '@video-llava/converter/node';
import { tinyFixture } from '@video-llava/test-utils';
import { inject } from 'vitest';

const WAIT_MS = 120_000;

/**
 * fixtures/video-llava-tiny/model converted to ONNX (fp32), a complete model folder: converted once per test run by
 * the first worker that asks (a lock folder keeps the others waiting), then shared by every test file.
 */
export async function convertedFixture(): Promise<string> {
  const root = (inject as unknown as (key: string) => string)('convertedFixtureRoot');
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
      await convertCheckpoint(tinyFixture.model, output, { dtypes: ['fp32'] });
      writeFileSync(done, '');
      return output;
    } catch (error) {
      writeFileSync(failed, String(error instanceof Error ? (error.stack ?? error.message) : error));
      throw error;
    }
  }
  for (const start = Date.now(); Date.now() - start < WAIT_MS; await sleep(50)) {
    if (existsSync(done)) return output;
    if (existsSync(failed)) throw new Error(`converting the fixture failed in another worker:\n${readFileSync(failed, 'utf8')}`);
  }
  throw new Error(`the fixture was not converted within ${WAIT_MS / 1000} s`);
}

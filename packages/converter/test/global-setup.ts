import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinyFixture } from '@video-llava/test-utils';
import type { TestProject } from 'vitest/node';
import { convertCheckpoint } from '../src/node.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The fixture converted once per test run (fp32, decoder with hidden_states outputs). */
    fixtureFp32: string;
    /** The same with the decoder built from ONNX Runtime contrib ops (`contribOps: true`). */
    fixtureFp32Contrib: string;
  }
}

/** Converts the fixture once for the whole test run; every test file reads the result. */
export default async function setup(project: TestProject): Promise<() => void> {
  const root = mkdtempSync(join(tmpdir(), 'converter-fixture-'));
  const output = join(root, 'video-llava-tiny-onnx');
  await convertCheckpoint(tinyFixture.model, output, { dtypes: ['fp32'], hiddenStateOutputs: true });
  project.provide('fixtureFp32', output);
  const contrib = join(root, 'video-llava-tiny-onnx-contrib');
  await convertCheckpoint(tinyFixture.model, contrib, {
    dtypes: ['fp32'],
    hiddenStateOutputs: true,
    contribOps: true,
    parts: ['decoder_model_merged'],
  });
  for (const part of ['embed_tokens', 'image_encoder', 'video_encoder'])
    copyFileSync(join(output, 'onnx', `${part}.onnx`), join(contrib, 'onnx', `${part}.onnx`));
  project.provide('fixtureFp32Contrib', contrib);
  return () => rmSync(root, { recursive: true, force: true });
}

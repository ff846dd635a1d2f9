import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { VideoLlavaError } from '@video-llava/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { convertCheckpoint } from './convert-checkpoint.js';
import { CONVERSION_MANIFEST } from './output-folder.js';
import { writeSyntheticCheckpoint } from './synthetic-checkpoint.js';

// `overwrite` must never delete the checkpoint nor anything a conversion did not write. Every case below ran the
// old code into data loss (renaming the output away and deleting it took the checkpoint, or the user's files, along).

let root: string;
let checkpoint: string;
let checkpointFiles: string[];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'converter-output-folder-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let caseFolder: string;
let caseNumber = 0;
beforeEach(async () => {
  caseFolder = join(root, `case-${caseNumber++}`);
  checkpoint = join(caseFolder, 'ck');
  await writeSyntheticCheckpoint(checkpoint);
  checkpointFiles = readdirSync(checkpoint).sort();
});

const fast = { parts: ['embed_tokens'] as const, overwrite: true };

async function refusal(promise: Promise<unknown>): Promise<VideoLlavaError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(VideoLlavaError.isInstance(caught), `expected a VideoLlavaError, got ${String(caught)}`).toBe(true);
  expect((caught as VideoLlavaError).code).toBe('INVALID_ARGUMENT');
  expect((caught as VideoLlavaError).field).toBe('outputDirectory');
  return caught as VideoLlavaError;
}

function expectCheckpointIntact(): void {
  expect(readdirSync(checkpoint).sort()).toEqual(checkpointFiles);
}

describe('an output that is, holds or lies inside the checkpoint is refused, however spelled', () => {
  it('the checkpoint folder itself (absolute, relative, with ..)', async () => {
    for (const spelling of [checkpoint, 'ck', './ck/', 'ck/../ck', `../${relative(root, caseFolder)}/ck`]) {
      const error = await refusal(convertCheckpoint(checkpoint, spelling, { ...fast, cwd: caseFolder }));
      expect(error.message).toContain('is the checkpoint folder');
    }
    expectCheckpointIntact();
  });

  it('a folder above the checkpoint', async () => {
    const error = await refusal(convertCheckpoint(checkpoint, caseFolder, fast));
    expect(error.message).toContain('contains the checkpoint folder');
    await refusal(convertCheckpoint('ck', '..', { ...fast, cwd: join(caseFolder, 'ck') }));
    expectCheckpointIntact();
    expect(readdirSync(caseFolder)).toEqual(['ck']);
  });

  it('a folder inside the checkpoint (new or existing); nothing is written there', async () => {
    const error = await refusal(convertCheckpoint(checkpoint, join(checkpoint, 'onnx-out'), fast));
    expect(error.message).toContain('lies inside the checkpoint folder');
    await refusal(convertCheckpoint(checkpoint, join(checkpoint, 'a', 'b'), { ...fast, overwrite: false }));
    expectCheckpointIntact();
  });

  it('through a symlink to the checkpoint, or a checkpoint reached through a symlink', async () => {
    const link = join(caseFolder, 'link-to-ck');
    symlinkSync(checkpoint, link);
    const error = await refusal(convertCheckpoint(checkpoint, link, fast));
    expect(error.message).toContain(`(really ${checkpoint})`);
    await refusal(convertCheckpoint(link, checkpoint, fast));
    await refusal(convertCheckpoint(link, caseFolder, fast));
    const aboveLink = join(caseFolder, 'link-to-case');
    symlinkSync(caseFolder, aboveLink);
    await refusal(convertCheckpoint(checkpoint, aboveLink, fast));
    expectCheckpointIntact();
  });

  it('the working folder (`convert ./ck . --overwrite`)', async () => {
    writeFileSync(join(caseFolder, 'notes.txt'), 'mine');
    const error = await refusal(convertCheckpoint('./ck', '.', { ...fast, cwd: caseFolder }));
    expect(error.file).toBe(caseFolder);
    expectCheckpointIntact();
    expect(readdirSync(caseFolder).sort()).toEqual(['ck', 'notes.txt']);
  });
});

describe('overwrite replaces only an earlier conversion output', () => {
  it('a folder without the manifest is refused, naming it, and left as it was', async () => {
    const output = join(caseFolder, 'out');
    mkdirSync(join(output, 'onnx'), { recursive: true });
    writeFileSync(join(output, 'config.json'), '{}');
    writeFileSync(join(output, 'onnx', 'embed_tokens.onnx'), 'looks like a model');
    const error = await refusal(convertCheckpoint(checkpoint, output, fast));
    expect(error.file).toBe(output);
    expect(error.message).toContain(`has no ${CONVERSION_MANIFEST}`);
    expect(readFileSync(join(output, 'onnx', 'embed_tokens.onnx'), 'utf8')).toBe('looks like a model');
  });

  it('an earlier output is replaced; one holding a file the conversion did not write is refused, naming the file', async () => {
    const output = join(caseFolder, 'out');
    const first = await convertCheckpoint(checkpoint, output, { parts: ['embed_tokens'] });
    const manifest = JSON.parse(readFileSync(join(output, CONVERSION_MANIFEST), 'utf8'));
    expect(manifest).toMatchObject({
      converter: '@video-llava/converter',
      version: 1,
      source: checkpoint,
      files: first.files.map((file) => file.path),
    });
    // Replaced by a conversion with other parts: the old files are gone, the new ones there.
    await convertCheckpoint(checkpoint, output, { ...fast, parts: ['image_encoder'] });
    expect(readdirSync(join(output, 'onnx'))).toEqual(['image_encoder.onnx']);
    // A file of the user's inside an earlier output, at the top or in onnx/.
    for (const extra of ['README.md', join('onnx', 'my-notes.txt')]) {
      writeFileSync(join(output, extra), 'mine');
      const error = await refusal(convertCheckpoint(checkpoint, output, fast));
      expect(error.file).toBe(join(output, extra));
      expect(readFileSync(join(output, extra), 'utf8')).toBe('mine');
      rmSync(join(output, extra));
    }
    expect(readdirSync(caseFolder).sort()).toEqual(['ck', 'out']);
  });

  it('an output that is a symlink or a file is refused, its target untouched', async () => {
    const target = join(caseFolder, 'target');
    mkdirSync(target);
    writeFileSync(join(target, 'keep.txt'), 'mine');
    const link = join(caseFolder, 'out-link');
    symlinkSync(target, link);
    const error = await refusal(convertCheckpoint(checkpoint, link, fast));
    expect(error.actual).toBe('a symlink');
    writeFileSync(join(caseFolder, 'file'), 'mine');
    expect((await refusal(convertCheckpoint(checkpoint, join(caseFolder, 'file'), fast))).actual).toBe('a file');
    expect(readFileSync(join(target, 'keep.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(caseFolder, 'file'))).toBe(true);
  });
});

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '@video-llava/core';
import { readNpy } from './npy.js';

function findRepositoryRoot(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(directory, 'pnpm-workspace.yaml'))) return directory;
    const parent = dirname(directory);
    if (parent === directory)
      throw new Error(
        `test-utils: could not find the repository root (pnpm-workspace.yaml) above ${fileURLToPath(import.meta.url)}`,
      );
    directory = parent;
  }
}

/** The repository's root folder. */
export const repositoryRoot: string = findRepositoryRoot();

/** `fixtures/video-llava-tiny`: the tiny random checkpoint and what transformers computed for it. */
export const tinyFixture = {
  root: resolve(repositoryRoot, 'fixtures/video-llava-tiny'),
  /** The checkpoint folder (config.json, processor_config.json, tokenizer.json, model.safetensors, ...). */
  model: resolve(repositoryRoot, 'fixtures/video-llava-tiny/model'),
  images: resolve(repositoryRoot, 'fixtures/video-llava-tiny/images'),
  video: resolve(repositoryRoot, 'fixtures/video-llava-tiny/video'),
  refs: resolve(repositoryRoot, 'fixtures/video-llava-tiny/refs'),
  /** Path of a file under refs/. */
  ref(...parts: string[]): string {
    return resolve(repositoryRoot, 'fixtures/video-llava-tiny/refs', ...parts);
  },
  /** Reads a `.npy` file under refs/. */
  npy(...parts: string[]): Tensor {
    return readNpy(resolve(repositoryRoot, 'fixtures/video-llava-tiny/refs', ...parts));
  },
  /** Reads and parses a JSON file under refs/. */
  json<T = unknown>(...parts: string[]): T {
    return JSON.parse(readFileSync(resolve(repositoryRoot, 'fixtures/video-llava-tiny/refs', ...parts), 'utf8')) as T;
  },
};

/** One end-to-end case of `refs/cases.json`. */
export interface FixtureCase {
  name: string;
  text: string[];
  images: string[];
  videos: number;
  input_ids_shape: number[];
  n_image_tokens: number;
  n_video_tokens: number;
  generated: number[][];
  decoded: string[];
  top1_top2_min_gap: number;
}

/** The six end-to-end cases of `refs/cases.json`. */
export function fixtureCases(): FixtureCase[] {
  return tinyFixture.json<FixtureCase[]>('cases.json');
}

import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { looksLikeHubId } from '@video-llava/config';
import { VideoLlavaError } from '@video-llava/core';
import type { CliIo } from './command.js';
import type { RequiredPositional } from './parse-command-line.js';

/** The `<model-dir>` argument of the commands that read a checkpoint: a folder, a hub id or a URL. */
export const modelPositional = {
  name: '<model-dir>',
  description: 'a checkpoint folder, a hub id (org/name) or a URL',
} as const satisfies RequiredPositional;

/**
 * The flags of every command that reads a model: `--cache-dir <dir>` (the hub cache folder, relative to the working
 * directory) and `--offline` (never touch the network). Spread into a command's options.
 */
export const sourceFlags = {
  'cache-dir': {
    type: 'string',
    value: '<dir>',
    description: 'the hub cache for a hub id (default: HF_HUB_CACHE, else ~/.cache/huggingface/hub)',
  },
  offline: {
    type: 'boolean',
    default: false,
    description: 'use the hub cache only, never the network (default: from HF_HUB_OFFLINE)',
  },
} as const;

/** The values {@link sourceFlags} parse to. */
export interface SourceFlagValues {
  'cache-dir'?: string | undefined;
  offline: boolean;
}

/**
 * How a model argument (folder, hub id or URL) is resolved: relative paths against the working directory, the
 * environment for `HF_*` variables, and the hub options `--cache-dir` and `--offline` ask for (an option the user
 * did not give is left out, so the environment's `HF_HUB_CACHE` and `HF_HUB_OFFLINE` still apply).
 */
export function sourceOptionsFromFlags(
  values: SourceFlagValues,
  io: CliIo,
): { cwd: string; env: CliIo['env']; hub: { cacheDirectory?: string; offline?: boolean } } {
  return {
    cwd: io.cwd,
    env: io.env,
    hub: {
      ...(values['cache-dir'] ? { cacheDirectory: resolve(io.cwd, values['cache-dir']) } : {}),
      ...(values.offline ? { offline: true } : {}),
    },
  };
}

/**
 * Checks the model argument before anything loads: a local path that does not exist is reported as a missing
 * folder (not as a missing `config.json` inside it), a file as a file. A URL, an existing folder and a hub id
 * (`org/name`) pass; the hub is asked when the model loads.
 *
 * @param flag how messages name the argument, e.g. `<model-dir>`
 * @throws VideoLlavaError `FILE_NOT_FOUND` for a missing folder, `INVALID_ARGUMENT` for a file
 */
export function checkModelArgument(model: string, cwd: string, flag = '<model-dir>'): void {
  if (/^https?:\/\//i.test(model)) return;
  const path = isAbsolute(model) ? model : resolve(cwd, model);
  let stats;
  try {
    stats = statSync(path);
  } catch {
    stats = undefined;
  }
  if (stats?.isDirectory()) return;
  if (stats) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `${flag} ${model} is a file; give the model folder (the one with config.json and onnx/), a hub id (org/name) or a URL.`,
      {
        file: path,
        field: flag,
        expected: 'a model folder, a hub id or a URL',
        actual: 'a file',
      },
    );
  }
  const localSpelling =
    model.startsWith('.') ||
    model.startsWith('~') ||
    isAbsolute(model) ||
    model.includes('\\') ||
    !looksLikeHubId(model);
  if (localSpelling) {
    throw new VideoLlavaError(
      'FILE_NOT_FOUND',
      `${flag} ${model}: no such folder (${path}). Give a model folder, a hub id (org/name) or a URL.`,
      {
        file: path,
        field: flag,
        expected: 'an existing folder',
        actual: 'missing',
      },
    );
  }
}

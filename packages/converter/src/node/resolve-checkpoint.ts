import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseJsonText } from '@video-llava/config';
import { DirectorySource, type ResolveSourceOptions, resolveSource } from '@video-llava/config/node';
import { VideoLlavaError } from '@video-llava/core';
import { MODEL_FOLDER_FILES } from './model-folder-files.js';
import { isShardFileName } from './shard-file-name.js';

/** Where a checkpoint comes from: options for a folder path or a hub id. */
export interface CheckpointSourceOptions {
  /** Folder relative paths resolve against. @default process.cwd() */
  cwd?: string;
  /** Options for resolving a hub id (cache folder, token, endpoint via `env`). @default {} */
  sourceOptions?: Omit<ResolveSourceOptions, 'cwd'>;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The local folder holding a checkpoint: the folder itself, or, for a hub id (`org/name[@revision]`), the
 * hub-cache snapshot folder after the needed files (config, safetensors index and shards, processor and
 * tokenizer files) are downloaded through `@video-llava/config`'s `CachedHubSource`.
 *
 * @throws VideoLlavaError `FILE_NOT_FOUND` for a missing folder, `UNSUPPORTED` for sources that have no local
 * files (plain URLs), and the source's own download errors
 */
export async function resolveCheckpointDirectory(
  source: string,
  options: CheckpointSourceOptions = {},
): Promise<string> {
  const cwd = options.cwd ?? process.cwd();
  const local = isAbsolute(source) ? source : resolve(cwd, source);
  if (await isDirectory(local)) return local;
  const resolved = resolveSource(source, { ...options.sourceOptions, cwd });
  if (resolved instanceof DirectorySource) {
    throw new VideoLlavaError(
      'FILE_NOT_FOUND',
      `${local}: no such checkpoint folder (and ${JSON.stringify(source)} is not a hub id).`,
      {
        file: local,
        expected: 'a checkpoint folder or a hub id (org/name)',
        actual: 'missing',
      },
    );
  }
  if (!resolved.localPath) {
    throw new VideoLlavaError(
      'UNSUPPORTED',
      `${resolved.description}: converting from a URL is not supported; download the checkpoint and pass its folder, or pass a hub id.`,
      {
        field: 'source',
        expected: 'a folder or a hub id',
        actual: source,
      },
    );
  }
  const configPath = await resolved.localPath('config.json');
  if (configPath === undefined) {
    throw new VideoLlavaError('FILE_NOT_FOUND', `${resolved.description}: has no config.json.`, {
      file: `${resolved.description}/config.json`,
      expected: 'config.json',
      actual: 'missing',
    });
  }
  const weightFiles: string[] = [];
  if (await resolved.exists('model.safetensors.index.json')) {
    const index = parseJsonText(
      await resolved.readText('model.safetensors.index.json'),
      `${resolved.description}/model.safetensors.index.json`,
    );
    const map = index['weight_map'];
    // Only plain .safetensors names in the same folder are downloaded; openCheckpoint refuses the rest clearly.
    const shards = typeof map === 'object' && map !== null ? Object.values(map).filter(isShardFileName) : [];
    weightFiles.push('model.safetensors.index.json', ...new Set(shards));
  } else {
    weightFiles.push('model.safetensors');
  }
  for (const name of [...weightFiles, ...MODEL_FOLDER_FILES]) {
    if (name === 'config.json') continue;
    if (weightFiles.includes(name) || (await resolved.exists(name))) await resolved.localPath(name);
  }
  return dirname(configPath);
}

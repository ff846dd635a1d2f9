import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type VideoLlavaConfig, parseJsonText, parseModelConfig } from '@video-llava/config';
import { VideoLlavaError } from '@video-llava/core';
import type { SafetensorsTensorInfo } from '../safetensors-header.js';
import { type CheckpointTensor, validateCheckpoint } from '../validate-checkpoint.js';
import { SafetensorsFile } from './safetensors-file.js';
import { isShardFileName } from './shard-file-name.js';

/** A checkpoint folder opened for conversion: its config, its validated tensors, and readers for its files. */
export interface OpenedCheckpoint {
  /** The folder. */
  directory: string;
  /** `config.json`, parsed and validated. */
  config: VideoLlavaConfig;
  /** The tensors the model needs, by canonical name, validated against the config. */
  tensors: Map<string, CheckpointTensor>;
  /** Open safetensors files by path. */
  files: Map<string, SafetensorsFile>;
  /**
   * Checkpoint tensors the model does not use (their names), in file order; transformers would warn about
   * them as unexpected keys. Not converted.
   */
  unusedTensors: string[];
  /** Closes every file. */
  close(): Promise<void>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new VideoLlavaError('FILE_NOT_FOUND', `${path}: no such file (a checkpoint folder needs it).`, {
      file: path,
      expected: 'an existing file',
      actual: 'missing',
      cause: error,
    });
  }
  return parseJsonText(text, path);
}

/** The shard file names, and the index's weight map when the checkpoint has one (read once, checked again after). */
async function shardFiles(
  directory: string,
  indexPath: string,
): Promise<{ names: string[]; weightMap?: Record<string, string> }> {
  if (await exists(indexPath)) {
    const index = await readJson(indexPath);
    const map = index['weight_map'];
    if (typeof map !== 'object' || map === null || Array.isArray(map)) {
      throw new VideoLlavaError(
        'INVALID_CHECKPOINT',
        `${indexPath}: "weight_map" must be an object of tensor name -> shard file.`,
        {
          file: indexPath,
          field: 'weight_map',
          expected: 'an object',
          actual: map,
        },
      );
    }
    const files = new Set<string>();
    for (const [name, file] of Object.entries(map)) {
      if (!isShardFileName(file)) {
        throw new VideoLlavaError(
          'INVALID_CHECKPOINT',
          `${indexPath}: weight_map["${name}"] is ${JSON.stringify(file)}; expected a .safetensors file name in the same folder.`,
          {
            file: indexPath,
            field: `weight_map.${name}`,
            expected: 'a .safetensors file name',
            actual: file,
          },
        );
      }
      files.add(file);
    }
    return { names: [...files].sort(), weightMap: map as Record<string, string> };
  }
  if (await exists(join(directory, 'model.safetensors'))) return { names: ['model.safetensors'] };
  const hasBin =
    (await exists(join(directory, 'pytorch_model.bin'))) ||
    (await exists(join(directory, 'pytorch_model.bin.index.json')));
  throw new VideoLlavaError(
    hasBin ? 'UNSUPPORTED' : 'INVALID_CHECKPOINT',
    hasBin
      ? `${directory}: has PyTorch .bin weights; the converter reads safetensors (convert them first, e.g. with transformers' save_pretrained(safe_serialization=True)).`
      : `${directory}: has neither model.safetensors nor model.safetensors.index.json.`,
    {
      file: join(directory, 'model.safetensors'),
      expected: 'model.safetensors or model.safetensors.index.json',
      actual: 'missing',
    },
  );
}

/**
 * Opens a checkpoint folder: parses `config.json` (with `@video-llava/config`), reads the header of every
 * safetensors file (single or sharded through `model.safetensors.index.json`), checks that shards agree with
 * the index, and validates every tensor's name, dtype and shape against the config. Nothing is converted yet.
 *
 * @throws VideoLlavaError naming the file and the tensor or field at fault
 */
export async function openCheckpoint(directory: string): Promise<OpenedCheckpoint> {
  const configPath = join(directory, 'config.json');
  const configJson = await readJson(configPath);
  const config = parseModelConfig(configJson, configPath);
  const indexPath = join(directory, 'model.safetensors.index.json');
  const { names: shardNames, weightMap } = await shardFiles(directory, indexPath);
  const files = new Map<string, SafetensorsFile>();
  const close = async () => {
    await Promise.all([...files.values()].map((file) => file.close()));
  };
  try {
    const all = new Map<string, SafetensorsTensorInfo>();
    for (const shard of shardNames) {
      const file = await SafetensorsFile.open(join(directory, shard));
      files.set(file.path, file);
      for (const tensor of file.header.tensors) {
        const previous = all.get(tensor.name);
        if (previous) {
          throw new VideoLlavaError(
            'INVALID_CHECKPOINT',
            `Tensor "${tensor.name}" is in both ${previous.file} and ${tensor.file}.`,
            {
              file: tensor.file,
              field: tensor.name,
              expected: 'each tensor in one shard',
              actual: [previous.file, tensor.file],
            },
          );
        }
        all.set(tensor.name, tensor);
      }
    }
    if (weightMap) {
      for (const [name, shard] of Object.entries(weightMap)) {
        const tensor = all.get(name);
        if (!tensor || tensor.file !== join(directory, shard)) {
          throw new VideoLlavaError(
            'INVALID_CHECKPOINT',
            `${indexPath}: weight_map says "${name}" is in ${shard}, but ${tensor ? `it is in ${tensor.file}` : 'no shard has it'}.`,
            {
              file: indexPath,
              field: `weight_map.${name}`,
              expected: shard,
              actual: tensor?.file ?? 'missing',
            },
          );
        }
      }
    }
    const tensors = validateCheckpoint(config, all, configPath);
    const used = new Set([...tensors.values()].map((tensor) => tensor.name));
    const unusedTensors = [...all.keys()].filter((name) => !used.has(name));
    return { directory, config, tensors, unusedTensors, files, close };
  } catch (error) {
    await close();
    throw error;
  }
}

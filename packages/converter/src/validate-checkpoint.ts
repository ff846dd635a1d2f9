import type { VideoLlavaConfig } from '@video-llava/config';
import { VideoLlavaError } from '@video-llava/core';
import { canonicalName, candidateNames } from './checkpoint-layout.js';
import { expectedTensors } from './expected-tensors.js';
import type { SafetensorsTensorInfo } from './safetensors-header.js';

const FLOAT_DTYPES = ['F32', 'F16', 'BF16'];

/** A checkpoint tensor matched to the model: its canonical name and where it is. */
export interface CheckpointTensor extends SafetensorsTensorInfo {
  canonical: string;
}

/**
 * Matches a checkpoint's tensors to what the config says the model has, before anything is built:
 * every tensor present (under any known naming layout), float32/float16/bfloat16, with exactly the shape the
 * config implies, and no layers beyond the config's layer counts.
 *
 * @param config the parsed `config.json`
 * @param tensors every tensor of the checkpoint by name
 * @param configFile the config's path, for messages
 * @returns the tensors by canonical name
 * @throws VideoLlavaError `INVALID_CHECKPOINT` (missing tensor), `SHAPE_MISMATCH` (shape or layer count disagrees
 * with the config), `DTYPE_MISMATCH` (not a float type); each names the tensor (`field`) and its file
 */
export function validateCheckpoint(
  config: VideoLlavaConfig,
  tensors: ReadonlyMap<string, SafetensorsTensorInfo>,
  configFile = 'config.json',
): Map<string, CheckpointTensor> {
  const resolved = new Map<string, CheckpointTensor>();
  const files = [...new Set([...tensors.values()].map((tensor) => tensor.file))];
  const where = files.length === 1 ? files[0]! : `the checkpoint (${files.length} safetensors files)`;
  for (const expected of expectedTensors(config)) {
    const candidates = candidateNames(expected.canonical);
    const name = candidates.find((candidate) => tensors.has(candidate));
    if (name === undefined) {
      // Without tied embeddings transformers would leave a missing lm_head randomly initialised: say which setting
      // would make the checkpoint complete, rather than convert a head nobody trained.
      const hint =
        expected.canonical === 'lm_head.weight'
          ? ` (text_config.tie_word_embeddings is false; a checkpoint that shares the input embeddings says true)`
          : '';
      throw new VideoLlavaError(
        'INVALID_CHECKPOINT',
        `${where}: tensor "${candidates[0]}" is missing (also looked for ${candidates
          .slice(1)
          .map((candidate) => `"${candidate}"`)
          .join(
            ', ',
          )}). ${configFile} describes a model that needs it, with shape [${expected.shape.join(', ')}]${hint}.`,
        {
          file: files[0],
          field: candidates[0],
          expected: `a tensor of shape [${expected.shape.join(', ')}]`,
          actual: 'missing',
        },
      );
    }
    const tensor = tensors.get(name)!;
    if (!FLOAT_DTYPES.includes(tensor.dtype)) {
      throw new VideoLlavaError(
        'DTYPE_MISMATCH',
        `${tensor.file}: tensor "${name}" is ${tensor.dtype}; the converter reads F32, F16 and BF16 weights.`,
        {
          file: tensor.file,
          field: name,
          expected: FLOAT_DTYPES,
          actual: tensor.dtype,
        },
      );
    }
    if (
      tensor.shape.length !== expected.shape.length ||
      tensor.shape.some((dim, axis) => dim !== expected.shape[axis])
    ) {
      throw new VideoLlavaError(
        'SHAPE_MISMATCH',
        `${tensor.file}: tensor "${name}" has shape [${tensor.shape.join(', ')}] but ${configFile} implies [${expected.shape.join(', ')}] (${expected.shapeFrom.join(', ')}). The config and the weights disagree.`,
        { file: tensor.file, field: name, expected: expected.shape, actual: tensor.shape },
      );
    }
    resolved.set(expected.canonical, { ...tensor, canonical: expected.canonical });
  }
  checkLayerCounts(config, tensors, configFile);
  return resolved;
}

function checkLayerCounts(
  config: VideoLlavaConfig,
  tensors: ReadonlyMap<string, SafetensorsTensorInfo>,
  configFile: string,
): void {
  const limits: Array<[RegExp, number, string]> = [
    [
      /^model\.(image|video)_tower\.encoder\.layers\.(\d+)\./,
      config.visionConfig.numHiddenLayers,
      'vision_config.num_hidden_layers',
    ],
    [/^model\.language_model\.layers\.()(\d+)\./, config.textConfig.numHiddenLayers, 'text_config.num_hidden_layers'],
  ];
  for (const [name, tensor] of tensors) {
    const canonical = canonicalName(name);
    if (canonical === undefined) continue;
    for (const [pattern, count, field] of limits) {
      const match = pattern.exec(canonical);
      if (match && Number(match[2]) >= count) {
        throw new VideoLlavaError(
          'SHAPE_MISMATCH',
          `${tensor.file}: tensor "${name}" belongs to layer ${match[2]}, but ${configFile} says ${field} is ${count}. The config and the weights disagree.`,
          { file: configFile, field, expected: Number(match[2]) + 1, actual: count },
        );
      }
    }
  }
}

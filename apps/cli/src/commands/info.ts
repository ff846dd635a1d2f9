import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type PretrainedConfig, loadPretrainedConfig, resolveSource } from '@video-llava/config/node';
import { MODEL_PARTS } from '@video-llava/model';
import { PREPACKED_FOLDER } from '@video-llava/runtime-node';
import type { CliCommand } from '../command.js';
import { defineCommand } from '../define-command.js';
import { checkModelArgument, modelPositional, sourceFlags, sourceOptionsFromFlags } from '../model-source-arguments.js';
import { type OnnxVariant, listOnnxVariants } from '../onnx-variants.js';
import { jsonFlag, writeResult } from '../write-result.js';

const usage =
  'video-llava info <model-dir | org/name[@revision] | https://...> [--json] [--cache-dir <dir>] [--offline]';

/** What `info --json` prints: one object, camelCase keys. */
export interface CheckpointInfo {
  source: string;
  modelType: 'video_llava';
  storedDtype: string;
  processorLayout: 'v5' | 'v4';
  vision: {
    modelType: string;
    hiddenSize: number;
    numHiddenLayers: number;
    numAttentionHeads: number;
    headDim: number;
    intermediateSize: number;
    imageSize: number;
    patchSize: number;
    hiddenAct: string;
  };
  text: {
    modelType: string;
    hiddenSize: number;
    numHiddenLayers: number;
    numAttentionHeads: number;
    numKeyValueHeads: number;
    headDim: number;
    intermediateSize: number;
    vocabSize: number;
    maxPositionEmbeddings: number;
    ropeType: string;
    ropeTheta: number;
    rmsNormEps: number;
  };
  visionFeatureLayer: number | number[];
  visionFeatureSelectStrategy: 'default' | 'full';
  imageTokenIndex: number;
  videoTokenIndex: number;
  vocabSize: number;
  tokensPerImage: number;
  tokensPerFrame: number;
  framesPerVideo: number;
  tokensPerVideo: number;
  /**
   * The ONNX files of a local model folder (`onnx/<part>[_<dtype>].onnx`), by part then dtype, each with its size
   * including its external data; empty for a raw checkpoint, undefined for a hub id or URL (not listed).
   */
  onnxVariants?: OnnxVariant[] | undefined;
  /**
   * onnxruntime's prepacked weights written beside the ONNX files by earlier loads (`--prepack-cache`, default):
   * the folder, its entries and their bytes; undefined when there is none.
   */
  prepackedCache?: { folder: string; entries: number; bytes: number } | undefined;
}

/** The `.prepacked` folder beside a model folder's ONNX files: its entries (folders) and their bytes. */
function describePrepackedCache(folder: string): CheckpointInfo['prepackedCache'] {
  const cache = join(folder, 'onnx', PREPACKED_FOLDER);
  if (!isDirectory(cache)) return undefined;
  let entries = 0;
  let bytes = 0;
  for (const name of readdirSync(cache)) {
    const entry = join(cache, name);
    if (!isDirectory(entry)) continue;
    entries++;
    for (const file of readdirSync(entry)) bytes += statSync(join(entry, file)).size;
  }
  return { folder: cache, entries, bytes };
}

/** The facts `info` reports, from a loaded config. */
export function describeCheckpoint(config: PretrainedConfig): CheckpointInfo {
  const { model, derived, processor } = config;
  const vision = model.visionConfig;
  const text = model.textConfig;
  return {
    source: config.source,
    modelType: model.modelType,
    storedDtype: model.storedDtype,
    processorLayout: processor.layout,
    vision: {
      modelType: vision.modelType,
      hiddenSize: vision.hiddenSize,
      numHiddenLayers: vision.numHiddenLayers,
      numAttentionHeads: vision.numAttentionHeads,
      headDim: vision.headDim,
      intermediateSize: vision.intermediateSize,
      imageSize: vision.imageSize,
      patchSize: vision.patchSize,
      hiddenAct: vision.hiddenAct,
    },
    text: {
      modelType: text.modelType,
      hiddenSize: text.hiddenSize,
      numHiddenLayers: text.numHiddenLayers,
      numAttentionHeads: text.numAttentionHeads,
      numKeyValueHeads: text.numKeyValueHeads,
      headDim: text.headDim,
      intermediateSize: text.intermediateSize,
      vocabSize: text.vocabSize,
      maxPositionEmbeddings: text.maxPositionEmbeddings,
      ropeType: text.rope.ropeType,
      ropeTheta: text.rope.ropeTheta,
      rmsNormEps: text.rmsNormEps,
    },
    visionFeatureLayer: model.visionFeatureLayer,
    visionFeatureSelectStrategy: model.visionFeatureSelectStrategy,
    imageTokenIndex: model.imageTokenIndex,
    videoTokenIndex: model.videoTokenIndex,
    vocabSize: text.vocabSize,
    tokensPerImage: derived.tokensPerImage,
    tokensPerFrame: derived.tokensPerFrame,
    framesPerVideo: derived.framesPerVideo,
    tokensPerVideo: derived.tokensPerVideo,
  };
}

function formatSize(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${(bytes / 2 ** 10).toFixed(1)} KiB`;
}

function formatVariants(variants: CheckpointInfo['onnxVariants']): string[] {
  if (variants === undefined) return [];
  if (variants.length === 0)
    return [
      'ONNX files',
      '  none: convert it with `video-llava convert <checkpoint> <out-dir> [--dtype fp32|fp16|q8|q4]`',
      '',
    ];
  const width = Math.max(...variants.map((variant) => variant.file.length));
  return [
    'ONNX files (load one dtype per part with --dtype)',
    ...variants.map((variant) => {
      const data = variant.externalData.length > 0 ? ` (with ${variant.externalData.join(', ')})` : '';
      return `  ${variant.dtype.padEnd(5)} ${variant.file.padEnd(width)}  ${formatSize(variant.bytes).padStart(10)}${data}`;
    }),
    '',
  ];
}

function formatText(info: CheckpointInfo): string {
  const { vision, text } = info;
  const rope =
    text.ropeType === 'default' ? `rope theta ${text.ropeTheta}` : `rope ${text.ropeType}, theta ${text.ropeTheta}`;
  const layers = Array.isArray(info.visionFeatureLayer)
    ? `[${info.visionFeatureLayer.join(', ')}]`
    : String(info.visionFeatureLayer);
  return [
    `Video-LLaVA checkpoint: ${info.source}`,
    `  stored dtype      ${info.storedDtype}`,
    `  processor layout  ${info.processorLayout === 'v5' ? 'v5 (processor_config.json)' : 'v4 (preprocessor_config.json)'}`,
    '',
    `Vision tower (CLIP, ${vision.modelType})`,
    `  width ${vision.hiddenSize}, ${vision.numHiddenLayers} layers, ${vision.numAttentionHeads} heads (head dim ${vision.headDim}), MLP ${vision.intermediateSize}`,
    `  image ${vision.imageSize} px, patch ${vision.patchSize}, ${vision.hiddenAct}; features from layer ${layers}, strategy ${info.visionFeatureSelectStrategy}`,
    '',
    `Text model (LLaMA, ${text.modelType})`,
    `  width ${text.hiddenSize}, ${text.numHiddenLayers} layers, ${text.numAttentionHeads} heads, ${text.numKeyValueHeads} kv heads (head dim ${text.headDim}), MLP ${text.intermediateSize}`,
    `  vocab ${text.vocabSize}, max positions ${text.maxPositionEmbeddings}, ${rope}, RMS eps ${text.rmsNormEps < 1e-3 ? text.rmsNormEps.toExponential() : text.rmsNormEps}`,
    '',
    'Tokens',
    `  per image ${info.tokensPerImage}, per frame ${info.tokensPerFrame}, per video ${info.tokensPerVideo} (${info.framesPerVideo} frames)`,
    `  <image> id ${info.imageTokenIndex}, <video> id ${info.videoTokenIndex}`,
    '',
    ...formatVariants(info.onnxVariants),
    ...(info.prepackedCache
      ? [
          `Prepacked weights (written by loads, --prepack-cache): ${info.prepackedCache.entries} ${info.prepackedCache.entries === 1 ? 'entry' : 'entries'}, ${formatSize(info.prepackedCache.bytes)}`,
          `  in ${info.prepackedCache.folder} (delete it to reclaim the space; the next load writes it again)`,
          '',
        ]
      : []),
  ].join('\n');
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** `video-llava info`: describe a checkpoint from its JSON files and list its ONNX files (no weights are read). */
export const command: CliCommand = defineCommand({
  name: 'info',
  summary: 'Describe a checkpoint: towers, widths, layers, heads, token counts, dtype, the ONNX files it holds',
  usage,
  options: {
    ...jsonFlag('print the facts as one JSON object (camelCase keys) instead of the summary'),
    ...sourceFlags,
  },
  positionals: [modelPositional],
  async run({ values, positionals: [model] }, io) {
    checkModelArgument(model, io.cwd);
    const info = describeCheckpoint(
      await loadPretrainedConfig(resolveSource(model, sourceOptionsFromFlags(values, io))),
    );
    const folder = /^https?:\/\//i.test(model) ? undefined : resolve(io.cwd, model);
    if (folder !== undefined && isDirectory(folder)) {
      const variants = listOnnxVariants(folder);
      info.onnxVariants = MODEL_PARTS.flatMap((part) => variants[part]);
      info.prepackedCache = describePrepackedCache(folder);
    }
    writeResult(io, info, { json: values.json, formatText, indent: 2 });
    return 0;
  },
});

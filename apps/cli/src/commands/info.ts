import { type PretrainedConfig, loadPretrainedConfig, resolveSource } from '@video-llava/config/node';
import type { CliCommand } from '../command.js';
import { defineCommand } from '../define-command.js';
import { modelPositional, sourceFlags, sourceOptionsFromFlags } from '../model-source-arguments.js';
import { jsonFlag, writeResult } from '../write-result.js';

const usage = 'video-llava info <model-dir | org/name[@revision] | https://...> [--json] [--cache-dir <dir>] [--offline]';

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

function formatText(info: CheckpointInfo): string {
  const { vision, text } = info;
  const rope = text.ropeType === 'default' ? `rope theta ${text.ropeTheta}` : `rope ${text.ropeType}, theta ${text.ropeTheta}`;
  const layers = Array.isArray(info.visionFeatureLayer) ? `[${info.visionFeatureLayer.join(', ')}]` : String(info.visionFeatureLayer);
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
  ].join('\n');
}

/** `video-llava info`: describe a checkpoint from its JSON files (no weights are read). */
export const command: CliCommand = defineCommand({
  name: 'info',
  summary: 'Describe a checkpoint: towers, widths, layers, heads, token counts, dtype',
  usage,
  options: { ...jsonFlag('print the facts as one JSON object (camelCase keys) instead of the summary'), ...sourceFlags },
  positionals: [modelPositional],
  async run({ values, positionals: [model] }, io) {
    const info = describeCheckpoint(await loadPretrainedConfig(resolveSource(model, sourceOptionsFromFlags(values, io))));
    writeResult(io, info, { json: values.json, formatText, indent: 2 });
    return 0;
  },
});

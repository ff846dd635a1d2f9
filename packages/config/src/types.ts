import type { DataType } from '@video-llava/core';

/** Rotary position embedding settings (`default` and `linear` are implemented; other types are refused at load). */
export interface RopeParameters {
  /** `default`, `linear`, `dynamic`, `llama3`, ... Only `default` and `linear` are supported. */
  ropeType: string;
  /** Base of the rotary frequencies. */
  ropeTheta: number;
  /** Position scaling for `linear` rope (1 for `default`). */
  factor: number;
}

/** The LLaMA language model (`text_config`). Field names are the camelCase of transformers' `LlamaConfig`. */
export interface TextConfig {
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  /** Key/value heads (grouped-query attention); equals `numAttentionHeads` for multi-head attention. */
  numKeyValueHeads: number;
  /** Per-head width: `head_dim` when given, else `hiddenSize / numAttentionHeads`. */
  headDim: number;
  hiddenAct: string;
  maxPositionEmbeddings: number;
  rmsNormEps: number;
  rope: RopeParameters;
  attentionBias: boolean;
  mlpBias: boolean;
  tieWordEmbeddings: boolean;
  bosTokenId: number | null;
  /** End-of-sequence ids (a single id becomes a one-element list). */
  eosTokenId: number[];
  padTokenId: number | null;
}

/** The CLIP vision tower (`vision_config`). */
export interface VisionConfig {
  modelType: string;
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  headDim: number;
  numChannels: number;
  imageSize: number;
  patchSize: number;
  hiddenAct: string;
  layerNormEps: number;
  projectionDim: number;
}

/** `config.json` of a `VideoLlavaForConditionalGeneration` checkpoint, validated, with transformers' defaults. */
export interface VideoLlavaConfig {
  modelType: 'video_llava';
  textConfig: TextConfig;
  visionConfig: VisionConfig;
  imageTokenIndex: number;
  videoTokenIndex: number;
  projectorHiddenAct: string;
  multimodalProjectorBias: boolean;
  /** Which hidden state(s) of the vision tower feed the projector; negative counts from the end. A list concatenates. */
  visionFeatureLayer: number | number[];
  visionFeatureSelectStrategy: 'default' | 'full';
  imageSeqLength: number;
  videoSeqLength: number;
  ignoreIndex: number;
  tieWordEmbeddings: boolean;
  /** The dtype the weights are stored in (`dtype`, or v4's `torch_dtype`); `float32` when absent. */
  storedDtype: 'float32' | 'float16' | 'bfloat16';
  /** The JSON as read, for fields this type does not cover. */
  raw: Record<string, unknown>;
}

/** `generation_config.json`, with transformers' `GenerationConfig` defaults where absent. */
export interface GenerationConfig {
  maxLength: number;
  maxNewTokens: number | null;
  minLength: number;
  minNewTokens: number | null;
  doSample: boolean;
  numBeams: number;
  temperature: number;
  topK: number;
  topP: number;
  minP: number | null;
  repetitionPenalty: number;
  noRepeatNgramSize: number;
  lengthPenalty: number;
  earlyStopping: boolean | 'never';
  numReturnSequences: number;
  bosTokenId: number | null;
  /** End-of-sequence ids; an int in the file becomes a one-element list. */
  eosTokenId: number[];
  padTokenId: number | null;
  useCache: boolean;
  raw: Record<string, unknown>;
}

/**
 * A target size: either the shortest edge (aspect kept), optionally with a cap on the longest edge (`longest_edge`,
 * which transformers' torchvision resize applies and its PIL `VideoLlavaImageProcessor.resize` ignores), or an exact
 * height and width.
 */
export type SizeSpec = { shortestEdge: number; longestEdge?: number } | { height: number; width: number };

/** Settings shared by the image and the video processor. */
export interface VisionProcessorConfig {
  doResize: boolean;
  size: SizeSpec;
  /** PIL resample code: 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming. */
  resample: number;
  doCenterCrop: boolean;
  cropSize: { height: number; width: number };
  doRescale: boolean;
  rescaleFactor: number;
  doNormalize: boolean;
  imageMean: [number, number, number];
  imageStd: [number, number, number];
  doConvertRgb: boolean;
  /**
   * Where these settings were read: the file and the dotted path of the processor's object in it (`''` at the
   * top level, `'video_processor'` in a v5 `processor_config.json`), so that a processor refusing a setting can
   * name the file and the field. Absent for settings built by hand.
   */
  origin?: { file: string; fieldPrefix: string };
}

/** `VideoLlavaImageProcessor` settings. */
export type ImageProcessorConfig = VisionProcessorConfig;

/** `VideoLlavaVideoProcessor` settings. */
export interface VideoProcessorConfig extends VisionProcessorConfig {
  /** Whether the processor samples frames itself (`do_sample_frames`). */
  doSampleFrames: boolean;
  /**
   * Frames per video (`num_frames`). When the config does not say: the model config's
   * `video_seq_length / tokensPerFrame` when that divides evenly, else 8 (Video-LLaVA's sampling).
   */
  numFrames: number;
  /**
   * Frames per second to sample at (`fps`): null when absent, and when `num_frames` is also set (the reference's
   * `sample_frames` then samples `num_frames` frames and never reads `fps`).
   */
  fps: number | null;
}

/** The processor settings of a checkpoint, from either layout. */
export interface ProcessorConfig {
  imageProcessor: ImageProcessorConfig;
  videoProcessor: VideoProcessorConfig;
  /** Patch size used to count image tokens (processor's `patch_size`, else the vision tower's). */
  patchSize: number;
  visionFeatureSelectStrategy: 'default' | 'full';
  /** Extra tokens per image beyond the patches (the CLS token): 1 for Video-LLaVA. */
  numAdditionalImageTokens: number;
  imageToken: string;
  videoToken: string;
  /** Chat template when the processor config carries one. */
  chatTemplate: string | null;
  /** Which layout the settings came from. */
  layout: 'v5' | 'v4';
}

/** Numbers derived from the configs with the reference's formulas. */
export interface DerivedValues {
  /** Text head width. */
  headDim: number;
  /** Patches along one side (the height) of the image processor's output. */
  patchesPerSide: number;
  /** Patches per image in all (`(height / patch) * (width / patch)`). */
  numPatches: number;
  /** Embedding rows one image contributes: patches + additional tokens, minus the CLS under `default`. */
  tokensPerImage: number;
  /** Embedding rows one video frame contributes: patches + additional tokens (the CLS is kept). */
  tokensPerFrame: number;
  /** Frames per video (the video processor's `numFrames`). */
  framesPerVideo: number;
  /** Embedding rows one video contributes: frames x tokens per frame. */
  tokensPerVideo: number;
  /** The dtype the stored weights use, as a tensor dtype. */
  storedDtype: DataType | 'bfloat16';
}

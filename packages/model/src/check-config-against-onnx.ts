import type { PretrainedConfig } from '@video-llava/config';
import { VideoLlavaError } from '@video-llava/core';
import type { InferenceSession } from '@video-llava/runtime';
import type { ModelPart } from './model-dtype.js';

/** One size an ONNX value declares that a config field must equal. */
interface SizeRule {
  /** `input` or `output`, and its name. */
  kind: 'input' | 'output';
  value: string;
  /** Which axis. */
  axis: number;
  /** The config field, as named in the file (`text_config.hidden_size`). */
  field: string;
  /** What the config says. */
  expected: number;
  /** What the axis is, in words. */
  meaning: string;
}

function rulesFor(part: ModelPart, config: PretrainedConfig): SizeRule[] {
  const text = config.model.textConfig;
  const vision = config.model.visionConfig;
  const width = {
    field: 'text_config.hidden_size',
    expected: text.hiddenSize,
    meaning: 'the width of the language model',
  };
  const imageSize = {
    field: 'vision_config.image_size',
    expected: vision.imageSize,
    meaning: 'the image size of the vision tower',
  };
  switch (part) {
    case 'embed_tokens':
      return [{ kind: 'output', value: 'inputs_embeds', axis: 2, ...width }];
    case 'decoder_model_merged':
      return [
        { kind: 'input', value: 'inputs_embeds', axis: 2, ...width },
        {
          kind: 'output',
          value: 'logits',
          axis: 2,
          field: 'text_config.vocab_size',
          expected: text.vocabSize,
          meaning: 'the vocabulary size',
        },
      ];
    case 'image_encoder':
      return [
        { kind: 'input', value: 'pixel_values', axis: 2, ...imageSize },
        { kind: 'input', value: 'pixel_values', axis: 3, ...imageSize },
        {
          kind: 'output',
          value: 'image_features',
          axis: 1,
          field: 'vision_config.image_size',
          expected: config.derived.tokensPerImage,
          meaning: `the tokens per image (vision_config.image_size / patch_size, vision_feature_select_strategy)`,
        },
        { kind: 'output', value: 'image_features', axis: 2, ...width },
      ];
    case 'video_encoder':
      return [
        { kind: 'input', value: 'pixel_values_videos', axis: 3, ...imageSize },
        { kind: 'input', value: 'pixel_values_videos', axis: 4, ...imageSize },
        { kind: 'output', value: 'video_features', axis: 2, ...width },
      ];
    default:
      return [];
  }
}

/**
 * Checks that a part's ONNX inputs and outputs have the sizes its configs say: the width of the embeddings, the
 * decoder's input and the encoders' features (`text_config.hidden_size`), the logits (`text_config.vocab_size`), the
 * encoders' pixel size (`vision_config.image_size`) and tokens per image. A config edited after conversion (or
 * copied from another checkpoint) would otherwise be used silently: wrong token counts, wrong widths reported,
 * failures deep inside a run. Symbolic dimensions (other exporters' `batch_size`, ...) and values the file does not
 * have are not checked; the decoder's cache shapes and layer count are checked where its layout is read.
 *
 * @param configFile the `config.json` the config came from, for the message
 * @param onnxFile the ONNX file, for the message
 * @throws VideoLlavaError `INVALID_CONFIG` naming the config field (`field`), with the ONNX size as `expected` and the
 *   config's as `actual`
 */
export function checkConfigAgainstOnnx(
  part: ModelPart,
  session: Pick<InferenceSession, 'inputMetadata' | 'outputMetadata'>,
  config: PretrainedConfig,
  configFile: string,
  onnxFile: string,
): void {
  for (const rule of rulesFor(part, config)) {
    const metadata = (rule.kind === 'input' ? session.inputMetadata : session.outputMetadata).find(
      (value) => value.name === rule.value,
    );
    const size = metadata?.shape[rule.axis];
    if (typeof size !== 'number' || size === rule.expected) continue;
    throw new VideoLlavaError(
      'INVALID_CONFIG',
      `${configFile}: ${rule.field} gives ${rule.expected} for ${rule.meaning}, but ${onnxFile} has ${size} (${rule.kind} ${rule.value}, axis ${rule.axis}, [${metadata!.shape.join(', ')}]): the config does not belong to these ONNX files. Use the config the model was converted with, or convert again.`,
      { file: configFile, field: rule.field, expected: size, actual: rule.expected },
    );
  }
}

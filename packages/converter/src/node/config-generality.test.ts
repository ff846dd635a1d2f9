import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveValues, parseModelConfig, parseProcessorConfig } from '@video-llava/config';
import { measureDifference } from '@video-llava/test-utils';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReferenceVideoLlava } from '../../test/reference-forward.js';
import type { CheckpointLayout } from '../checkpoint-layout.js';
import { convertCheckpoint } from './convert-checkpoint.js';
import { writeSyntheticCheckpoint } from './synthetic-checkpoint.js';

// fp32 conversions of tiny random checkpoints whose configs vary what the bundled fixture does not exercise
// (grouped-query attention, explicit head_dim, biases, rope scaling, tied embeddings, feature-layer lists,
// strategy "full", other image sizes and activations), run with onnxruntime-node against a naive float64
// reference forward pass (test/reference-forward.ts). Tolerance: 1e-4.
const TOLERANCE = 1e-4;

interface Variant {
  name: string;
  config: Record<string, unknown>;
  dtype: 'float32' | 'bfloat16';
  layout: CheckpointLayout;
  frames: number;
  images: number;
}

const tokens = { image_token_index: 90, video_token_index: 91 };
const textBase = { vocab_size: 96, bos_token_id: 1, eos_token_id: 2, pad_token_id: 92, max_position_embeddings: 512 };

const VARIANTS: Variant[] = [
  {
    // GQA (4 query heads on 2 key/value heads), head_dim 8 with width 48 (4 x 8 != 48), every bias, linear rope
    // (v4 "type" spelling), tied embeddings without lm_head, gelu everywhere, strategy full, a feature-layer list.
    name: 'gqa-head-dim-biases-linear-rope-tied-full-list',
    config: {
      ...tokens,
      vision_feature_layer: [-1, 0],
      vision_feature_select_strategy: 'full',
      projector_hidden_act: 'gelu_pytorch_tanh',
      multimodal_projector_bias: false,
      tie_word_embeddings: true,
      text_config: {
        ...textBase,
        hidden_size: 48,
        intermediate_size: 40,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        head_dim: 8,
        hidden_act: 'gelu',
        attention_bias: true,
        mlp_bias: true,
        rope_theta: 500000,
        rope_scaling: { type: 'linear', factor: 2 },
        rms_norm_eps: 1e-6,
        tie_word_embeddings: true,
      },
      vision_config: {
        hidden_size: 16,
        intermediate_size: 24,
        num_hidden_layers: 2,
        num_attention_heads: 2,
        image_size: 28,
        patch_size: 14,
        hidden_act: 'gelu',
        layer_norm_eps: 1e-6,
      },
    },
    dtype: 'float32',
    layout: 'hub',
    frames: 3,
    images: 2,
  },
  {
    // Multi-query attention (1 key/value head), v5 rope_parameters, a positive feature layer, an image size that
    // patches do not divide (32 px: 2 x 2 patches of 14), relu projector, transformers v5 names.
    name: 'mqa-v5-rope-positive-layer-32px',
    config: {
      ...tokens,
      vision_feature_layer: 1,
      vision_feature_select_strategy: 'default',
      projector_hidden_act: 'relu',
      text_config: {
        ...textBase,
        hidden_size: 32,
        intermediate_size: 48,
        num_hidden_layers: 1,
        num_attention_heads: 4,
        num_key_value_heads: 1,
        head_dim: null,
        hidden_act: 'silu',
        rope_theta: null,
        rope_parameters: { rope_type: 'default', rope_theta: 1000 },
      },
      vision_config: {
        hidden_size: 24,
        intermediate_size: 32,
        num_hidden_layers: 3,
        num_attention_heads: 3,
        image_size: 32,
        patch_size: 14,
        hidden_act: 'quick_gelu',
      },
    },
    dtype: 'float32',
    layout: 'transformers-v5',
    frames: 2,
    images: 1,
  },
  {
    // 3 x 3 patches, the last two hidden states concatenated under "default", linear rope (rope_type spelling)
    // with MHA (the fused MultiHeadAttention of the contrib decoder) and every bias, bfloat16 storage, the names
    // transformers v5 saves.
    name: 'mha-42px-last-two-layers-biases-bf16',
    config: {
      ...tokens,
      vision_feature_layer: [-2, -1],
      vision_feature_select_strategy: 'default',
      projector_hidden_act: 'silu',
      text_config: {
        ...textBase,
        hidden_size: 32,
        intermediate_size: 24,
        num_hidden_layers: 2,
        num_attention_heads: 2,
        num_key_value_heads: 2,
        head_dim: 16,
        hidden_act: 'gelu_new',
        attention_bias: true,
        mlp_bias: true,
        rope_scaling: { rope_type: 'linear', factor: 4 },
      },
      vision_config: {
        hidden_size: 16,
        intermediate_size: 16,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        image_size: 42,
        patch_size: 14,
        hidden_act: 'gelu_new',
        layer_norm_eps: 1e-6,
      },
    },
    dtype: 'bfloat16',
    layout: 'transformers-v5-saved',
    frames: 2,
    images: 1,
  },
];

/** Deterministic pseudo-random pixels in [-2, 2]. */
function pixels(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let index = 0; index < count; index++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[index] = (x / 2 ** 32) * 4 - 2;
  }
  return out;
}

/** The largest difference, and the largest reference value (so the test can tell a bug from small numbers). */
function largest(actual: ArrayLike<number>, expected: ArrayLike<number>): { difference: number; scale: number } {
  let scale = 0;
  for (let index = 0; index < expected.length; index++) scale = Math.max(scale, Math.abs(expected[index]!));
  return { difference: measureDifference(actual, expected).maxAbsDifference, scale };
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'converter-generality-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.each(VARIANTS.map((variant) => [variant.name, variant] as const))(
  'config generality: %s (fp32 ONNX vs a float64 reference)',
  (name, variant) => {
    let reference: ReferenceVideoLlava;
    let sessions: Record<'embed' | 'image' | 'video' | 'decoder' | 'decoderContrib', ort.InferenceSession>;
    let checkpoint: string;

    beforeAll(async () => {
      checkpoint = join(root, name);
      await writeSyntheticCheckpoint(checkpoint, {
        config: variant.config,
        dtype: variant.dtype,
        layout: variant.layout,
        seed: 7,
      });
      const output = join(root, `${name}-onnx`);
      await convertCheckpoint(checkpoint, output, { dtypes: ['fp32'] });
      const contrib = join(root, `${name}-onnx-contrib`);
      await convertCheckpoint(checkpoint, contrib, {
        dtypes: ['fp32'],
        contribOps: true,
        parts: ['decoder_model_merged'],
      });
      reference = new ReferenceVideoLlava(checkpoint);
      const options: ort.InferenceSession.SessionOptions = { logSeverityLevel: 3, intraOpNumThreads: 1 };
      const open = (part: string) => ort.InferenceSession.create(join(output, 'onnx', `${part}.onnx`), options);
      const [embed, image, video, decoder, decoderContrib] = await Promise.all([
        open('embed_tokens'),
        open('image_encoder'),
        open('video_encoder'),
        open('decoder_model_merged'),
        ort.InferenceSession.create(join(contrib, 'onnx', 'decoder_model_merged.onnx'), options),
      ]);
      sessions = { embed: embed!, image: image!, video: video!, decoder: decoder!, decoderContrib: decoderContrib! };
    }, 60_000);
    afterAll(async () => {
      await Promise.all(Object.values(sessions ?? {}).map((session) => session.release()));
    });

    it('derived token counts follow image_size, patch_size, the strategy and num_frames', async () => {
      const model = parseModelConfig(JSON.parse(readFileSync(join(checkpoint, 'config.json'), 'utf8')));
      const size = model.visionConfig.imageSize;
      const crop = { height: size, width: size };
      const processor = parseProcessorConfig(
        {
          processorConfig: {
            image_processor: { crop_size: crop, size: { shortest_edge: size } },
            video_processor: { crop_size: crop, size: { shortest_edge: size }, num_frames: variant.frames },
          },
        },
        model,
      );
      const derived = deriveValues(model, processor);
      const side = Math.floor(size / model.visionConfig.patchSize);
      expect(derived.tokensPerFrame).toBe(side * side + 1);
      expect(derived.tokensPerImage).toBe(side * side + (model.visionFeatureSelectStrategy === 'full' ? 1 : 0));
      expect(derived.tokensPerVideo).toBe(variant.frames * (side * side + 1));
      // And the ONNX encoders give exactly those rows.
      const C = model.visionConfig.numChannels;
      const { image_features } = await sessions.image.run({
        pixel_values: new ort.Tensor('float32', pixels(C * size * size, 1), [1, C, size, size]),
      });
      expect(image_features!.dims).toEqual([1, derived.tokensPerImage, model.textConfig.hiddenSize]);
      const { video_features } = await sessions.video.run({
        pixel_values_videos: new ort.Tensor('float32', pixels(variant.frames * C * size * size, 2), [
          1,
          variant.frames,
          C,
          size,
          size,
        ]),
      });
      expect(video_features!.dims).toEqual([1, derived.tokensPerVideo, model.textConfig.hiddenSize]);
    });

    it.each([
      ['standard ONNX ops', 'decoder'],
      ['ONNX Runtime contrib ops in the decoder', 'decoderContrib'],
    ] as const)(
      'image and video features, prefill logits and two KV-cache steps match the reference within 1e-4 (%s)',
      async (_, decoderPart) => {
        const { imageSize: S, channels: C } = reference.config.vision;
        const H = reference.config.text.hidden;
        const frameSize = C * S * S;
        const imagePixels = pixels(variant.images * frameSize, 11);
        const videoPixels = pixels(variant.frames * frameSize, 12);
        const { image_features } = await sessions.image.run({
          pixel_values: new ort.Tensor('float32', imagePixels, [variant.images, C, S, S]),
        });
        const { video_features } = await sessions.video.run({
          pixel_values_videos: new ort.Tensor('float32', videoPixels, [1, variant.frames, C, S, S]),
        });
        const differences: Record<string, { difference: number; scale: number }> = {};
        const expectedImage = Array.from({ length: variant.images }, (_, image) =>
          reference.imageFeatures(Float64Array.from(imagePixels.subarray(image * frameSize, (image + 1) * frameSize))),
        );
        const expectedVideo = Array.from({ length: variant.frames }, (_, frame) =>
          reference.frameFeatures(Float64Array.from(videoPixels.subarray(frame * frameSize, (frame + 1) * frameSize))),
        );
        const imageRows = expectedImage[0]!.length / H;
        const frameRows = expectedVideo[0]!.length / H;
        expect(image_features!.dims).toEqual([variant.images, imageRows, H]);
        expect(video_features!.dims).toEqual([1, variant.frames * frameRows, H]);
        const imageFlat = new Float64Array(expectedImage.flatMap((rows) => [...rows]));
        const videoFlat = new Float64Array(expectedVideo.flatMap((rows) => [...rows]));
        differences.image = largest(image_features!.data as Float32Array, imageFlat);
        differences.video = largest(video_features!.data as Float32Array, videoFlat);

        // A prompt with every image and the video, as the processor expands them.
        const prompt = [
          1,
          5,
          ...Array(variant.images * imageRows).fill(tokens.image_token_index),
          7,
          ...Array(variant.frames * frameRows).fill(tokens.video_token_index),
          8,
          9,
        ];
        const referenceEmbeds = reference.embed(prompt);
        const { inputs_embeds } = await sessions.embed.run({
          input_ids: new ort.Tensor('int64', BigInt64Array.from(prompt, BigInt), [1, prompt.length]),
        });
        const embeds = new Float32Array(inputs_embeds!.data as Float32Array);
        let imageRow = 0;
        let videoRow = 0;
        prompt.forEach((id, position) => {
          if (id === tokens.image_token_index) {
            embeds.set((image_features!.data as Float32Array).subarray(imageRow * H, (imageRow + 1) * H), position * H);
            referenceEmbeds.set(imageFlat.subarray(imageRow * H, ++imageRow * H), position * H);
          } else if (id === tokens.video_token_index) {
            embeds.set((video_features!.data as Float32Array).subarray(videoRow * H, (videoRow + 1) * H), position * H);
            referenceEmbeds.set(videoFlat.subarray(videoRow * H, ++videoRow * H), position * H);
          }
        });

        const { kvHeads, headDim, layers, vocab } = reference.config.text;
        const feeds: Record<string, ort.Tensor> = {
          inputs_embeds: new ort.Tensor('float32', embeds, [1, prompt.length, H]),
          attention_mask: new ort.Tensor('int64', new BigInt64Array(prompt.length).fill(1n), [1, prompt.length]),
          position_ids: new ort.Tensor('int64', BigInt64Array.from(prompt.keys(), BigInt), [1, prompt.length]),
          num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(0n), []),
        };
        for (let layer = 0; layer < layers; layer++) {
          for (const kind of ['key', 'value'])
            feeds[`past_key_values.${layer}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [
              1,
              kvHeads,
              0,
              headDim,
            ]);
        }
        let outputs = await sessions[decoderPart].run(feeds);
        expect(outputs.logits!.dims).toEqual([1, prompt.length, vocab]);
        expect(outputs['present.0.key']!.dims).toEqual([1, kvHeads, prompt.length, headDim]);
        let referenceLogits = reference.languageModel(referenceEmbeds);
        differences.prefill = largest(outputs.logits!.data as Float32Array, referenceLogits);

        // Two steps through the cache (fixed tokens, so a near-tie in argmax cannot make the runs diverge).
        let sequenceEmbeds = referenceEmbeds;
        for (const [step, token] of [11, 42].entries()) {
          const length = prompt.length + step + 1;
          const { inputs_embeds: stepEmbeds } = await sessions.embed.run({
            input_ids: new ort.Tensor('int64', BigInt64Array.from([BigInt(token)]), [1, 1]),
          });
          const stepFeeds: Record<string, ort.Tensor> = {
            inputs_embeds: stepEmbeds!,
            attention_mask: new ort.Tensor('int64', new BigInt64Array(length).fill(1n), [1, length]),
            position_ids: new ort.Tensor('int64', BigInt64Array.from([BigInt(length - 1)]), [1, 1]),
            num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(1n), []),
          };
          for (let layer = 0; layer < layers; layer++) {
            for (const kind of ['key', 'value'])
              stepFeeds[`past_key_values.${layer}.${kind}`] = outputs[`present.${layer}.${kind}`]!;
          }
          outputs = await sessions[decoderPart].run(stepFeeds);
          expect(outputs[`present.${layers - 1}.value`]!.dims).toEqual([1, kvHeads, length, headDim]);
          const grown = new Float64Array(sequenceEmbeds.length + H);
          grown.set(sequenceEmbeds);
          grown.set(reference.embed([token]), sequenceEmbeds.length);
          sequenceEmbeds = grown;
          referenceLogits = reference.languageModel(sequenceEmbeds);
          differences[`step ${step + 1}`] = largest(
            outputs.logits!.data as Float32Array,
            referenceLogits.subarray((length - 1) * vocab),
          );
        }
        if (process.env.PRINT_DIFFERENCES) console.log(name, decoderPart, differences);
        for (const [what, { difference, scale }] of Object.entries(differences)) {
          expect(difference, `${name}: ${what}`).toBeLessThanOrEqual(TOLERANCE);
          // The random weights keep values small, so also relative to their size: float32 is good to about 1e-6.
          expect(difference / scale, `${name}: ${what}, relative to the largest value ${scale}`).toBeLessThanOrEqual(
            1e-4,
          );
        }
      },
      60_000,
    );
  },
);

import { describe, expect, it } from 'vitest';
import { catchError } from '../test/catch-error.js';
import { edited, tinyJson, v4Json } from '../test/fixture-paths.js';
import { parseModelConfig } from './model-config.js';

type Json = Record<string, any>;

describe('parseModelConfig', () => {
  it('reads the tiny fixture (v5 spellings: rope_parameters, dtype)', () => {
    const config = parseModelConfig(tinyJson('config.json'));
    const raw = tinyJson('config.json') as Json;
    expect(config.textConfig.hiddenSize).toBe(raw.text_config.hidden_size);
    expect(config.textConfig.rope).toEqual({
      ropeType: 'default',
      ropeTheta: raw.text_config.rope_parameters.rope_theta,
      factor: 1,
    });
    expect(config.textConfig.headDim).toBe(raw.text_config.head_dim);
    expect(config.textConfig.eosTokenId).toEqual([raw.text_config.eos_token_id]);
    expect(config.storedDtype).toBe(raw.dtype);
    expect(config.visionConfig.numHiddenLayers).toBe(raw.vision_config.num_hidden_layers);
    expect(config.visionFeatureLayer).toBe(raw.vision_feature_layer);
  });

  it('reads the v4 copy of LanguageBind/Video-LLaVA-7B-hf (rope_theta at the top, torch_dtype)', () => {
    const config = parseModelConfig(v4Json('config.json'));
    expect(config.textConfig).toMatchObject({
      vocabSize: 32064,
      hiddenSize: 4096,
      numHiddenLayers: 32,
      numAttentionHeads: 32,
      numKeyValueHeads: 32,
      headDim: 128,
      intermediateSize: 11008,
      maxPositionEmbeddings: 4096,
      rmsNormEps: 1e-5,
      rope: { ropeType: 'default', ropeTheta: 10000, factor: 1 },
    });
    expect(config.visionConfig).toMatchObject({
      hiddenSize: 1024,
      numHiddenLayers: 24,
      numAttentionHeads: 16,
      intermediateSize: 4096,
      imageSize: 224,
      patchSize: 14,
      headDim: 64,
    });
    expect(config.storedDtype).toBe('float16');
    // absent from the real file: VideoLlavaConfig's defaults
    expect(config.imageSeqLength).toBe(256);
    expect(config.videoSeqLength).toBe(2056);
  });

  it('fills LlamaConfig defaults for an empty text_config and the ViT-L/14 tower when vision_config is absent', () => {
    const config = parseModelConfig({ model_type: 'video_llava' });
    expect(config.textConfig).toMatchObject({
      vocabSize: 32000,
      hiddenSize: 4096,
      numHiddenLayers: 32,
      numKeyValueHeads: 32,
      maxPositionEmbeddings: 2048,
      rmsNormEps: 1e-6,
      bosTokenId: 1,
      eosTokenId: [2],
      padTokenId: null,
    });
    expect(config.visionConfig).toMatchObject({
      hiddenSize: 1024,
      intermediateSize: 4096,
      numHiddenLayers: 24,
      numAttentionHeads: 16,
      patchSize: 14,
      projectionDim: 768,
    });
    expect(config.storedDtype).toBe('float32');
    expect(config.visionFeatureLayer).toBe(-2);
  });

  it("fills CLIPVisionConfig's own defaults for fields a present vision_config leaves out", () => {
    const config = parseModelConfig({ model_type: 'video_llava', vision_config: { image_size: 224 } });
    expect(config.visionConfig).toMatchObject({
      hiddenSize: 768,
      intermediateSize: 3072,
      numHiddenLayers: 12,
      numAttentionHeads: 12,
      patchSize: 32,
      projectionDim: 512,
      hiddenAct: 'quick_gelu',
    });
  });

  it('accepts linear rope scaling in both spellings and a list of feature layers', () => {
    const v4 = parseModelConfig(
      edited(v4Json('config.json') as Json, (json) => (json.text_config.rope_scaling = { type: 'linear', factor: 2 })),
    );
    expect(v4.textConfig.rope).toEqual({ ropeType: 'linear', ropeTheta: 10000, factor: 2 });
    const v5 = parseModelConfig(
      edited(
        tinyJson('config.json') as Json,
        (json) => (json.text_config.rope_parameters = { rope_type: 'linear', rope_theta: 5e5, factor: 4 }),
      ),
    );
    expect(v5.textConfig.rope).toEqual({ ropeType: 'linear', ropeTheta: 5e5, factor: 4 });
    const layers = parseModelConfig(
      edited(tinyJson('config.json') as Json, (json) => (json.vision_feature_layer = [-2, -1])),
    );
    expect(layers.visionFeatureLayer).toEqual([-2, -1]);
  });

  it('accepts the image_token_id / video_token_id aliases', () => {
    const config = parseModelConfig({
      model_type: 'video_llava',
      text_config: { vocab_size: 32064 },
      image_token_id: 32010,
      video_token_id: 32011,
    });
    expect([config.imageTokenIndex, config.videoTokenIndex]).toEqual([32010, 32011]);
  });
});

describe('parseModelConfig errors name the file and the field', () => {
  const base = () => tinyJson('config.json') as Json;

  it('wrong type', async () => {
    const error = await catchError(() =>
      parseModelConfig(
        edited(base(), (json) => (json.text_config.hidden_size = '64')),
        'model/config.json',
      ),
    );
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.file).toBe('model/config.json');
    expect(error.field).toBe('text_config.hidden_size');
    expect(error.message).toContain('model/config.json');
    expect(error.message).toContain('text_config.hidden_size');
    expect(error.message).toContain('"64"');
  });

  it('unknown model_type', async () => {
    const error = await catchError(() =>
      parseModelConfig(edited(base(), (json) => (json.model_type = 'llava_next_video'))),
    );
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.field).toBe('model_type');
    expect(error.message).toContain('config.json');
    expect(error.message).toContain('"model_type"');
    expect(error.message).toContain('llava_next_video');
  });

  it('missing model_type', async () => {
    const error = await catchError(() => parseModelConfig(edited(base(), (json) => delete json.model_type)));
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.field).toBe('model_type');
  });

  it('unknown text or vision model type', async () => {
    const text = await catchError(() =>
      parseModelConfig(edited(base(), (json) => (json.text_config.model_type = 'mistral'))),
    );
    expect([text.code, text.field]).toEqual(['UNSUPPORTED', 'text_config.model_type']);
    const vision = await catchError(() =>
      parseModelConfig(edited(base(), (json) => (json.vision_config.model_type = 'siglip_vision_model'))),
    );
    expect([vision.code, vision.field]).toEqual(['UNSUPPORTED', 'vision_config.model_type']);
    expect(vision.message).toContain('vision_config.model_type');
  });

  it('out-of-range values', async () => {
    const layer = await catchError(() => parseModelConfig(edited(base(), (json) => (json.vision_feature_layer = -9))));
    expect([layer.code, layer.field]).toEqual(['INVALID_CONFIG', 'vision_feature_layer']);
    expect(layer.message).toContain('vision_feature_layer');
    expect(layer.message).toContain('-9');
    const token = await catchError(() => parseModelConfig(edited(base(), (json) => (json.image_token_index = 40000))));
    expect([token.code, token.field]).toEqual(['INVALID_CONFIG', 'image_token_index']);
    expect(token.message).toContain('<= 32063');
    const eps = await catchError(() => parseModelConfig(edited(base(), (json) => (json.text_config.rms_norm_eps = 0))));
    expect([eps.code, eps.field]).toEqual(['INVALID_CONFIG', 'text_config.rms_norm_eps']);
    const heads = await catchError(() =>
      parseModelConfig(edited(base(), (json) => (json.text_config.num_key_value_heads = 3))),
    );
    expect([heads.code, heads.field]).toEqual(['INVALID_CONFIG', 'text_config.num_key_value_heads']);
    const patch = await catchError(() =>
      parseModelConfig(edited(base(), (json) => (json.vision_config.patch_size = 448))),
    );
    expect([patch.code, patch.field]).toEqual(['INVALID_CONFIG', 'vision_config.patch_size']);
  });

  it('unsupported rope types, in both spellings', async () => {
    const v5 = await catchError(() =>
      parseModelConfig(
        edited(
          base(),
          (json) => (json.text_config.rope_parameters = { rope_type: 'llama3', rope_theta: 5e5, factor: 8 }),
        ),
      ),
    );
    expect(v5.code).toBe('UNSUPPORTED');
    expect(v5.field).toBe('text_config.rope_parameters.rope_type');
    expect(v5.message).toContain('config.json');
    expect(v5.message).toContain('text_config.rope_parameters.rope_type');
    expect(v5.message).toContain('"llama3"');
    const v4 = await catchError(() =>
      parseModelConfig(
        edited(
          v4Json('config.json') as Json,
          (json) => (json.text_config.rope_scaling = { type: 'dynamic', factor: 2 }),
        ),
      ),
    );
    expect([v4.code, v4.field]).toEqual(['UNSUPPORTED', 'text_config.rope_scaling.type']);
    const noFactor = await catchError(() =>
      parseModelConfig(
        edited(v4Json('config.json') as Json, (json) => (json.text_config.rope_scaling = { rope_type: 'linear' })),
      ),
    );
    expect([noFactor.code, noFactor.field]).toEqual(['INVALID_CONFIG', 'text_config.rope_scaling.factor']);
  });

  it('a partial rotary factor, as a text_config field or in rope_parameters', async () => {
    const field = await catchError(() =>
      parseModelConfig(edited(base(), (json) => (json.text_config.partial_rotary_factor = 0.5))),
    );
    expect([field.code, field.field, field.expected, field.actual]).toEqual([
      'UNSUPPORTED',
      'text_config.partial_rotary_factor',
      '1 (rotary embeddings on every dimension of a head)',
      0.5,
    ]);
    expect(field.message).toContain('config.json');
    const v5 = await catchError(() =>
      parseModelConfig(
        edited(
          base(),
          (json) =>
            (json.text_config.rope_parameters = { rope_type: 'default', rope_theta: 1e4, partial_rotary_factor: 0.25 }),
        ),
      ),
    );
    expect([v5.code, v5.field]).toEqual(['UNSUPPORTED', 'text_config.rope_parameters.partial_rotary_factor']);
    expect(
      parseModelConfig(edited(base(), (json) => (json.text_config.partial_rotary_factor = 1))).textConfig.rope.ropeType,
    ).toBe('default');
  });

  it('a stored dtype it does not know', async () => {
    const error = await catchError(() =>
      parseModelConfig(edited(v4Json('config.json') as Json, (json) => (json.torch_dtype = 'float8'))),
    );
    expect([error.code, error.field]).toEqual(['INVALID_CONFIG', 'torch_dtype']);
    expect(error.message).toContain('"float8"');
  });

  it('a top level that is not an object', async () => {
    const error = await catchError(() => parseModelConfig([1, 2], 'config.json'));
    expect([error.code, error.field, error.file]).toEqual(['INVALID_CONFIG', '(root)', 'config.json']);
  });
});

import { parseModelConfig } from '@video-llava/config';
import { describe, expect, it } from 'vitest';
import { expectedTensors } from './expected-tensors.js';

describe('expectedTensors', () => {
  it('counts patches per side with floor division, like CLIPVisionEmbeddings (32 px, patch 14: 2 x 2 patches + CLS)', () => {
    const config = parseModelConfig({
      model_type: 'video_llava',
      vision_config: { hidden_size: 8, num_attention_heads: 2, image_size: 32, patch_size: 14 },
    });
    const positions = expectedTensors(config).find(
      (tensor) => tensor.canonical === 'model.image_tower.embeddings.position_embedding.weight',
    );
    expect(positions?.shape).toEqual([5, 8]);
  });
});

import { VideoLlavaError } from '@video-llava/core';
import { createMockBackend } from '@video-llava/runtime/testing';
import { describe, expect, it } from 'vitest';
import { MemorySource, PARTS, miniConfigJson, miniModels } from '../test/mock-video-llava.js';
import type { ModelPart } from './model-dtype.js';
import { VideoLlavaForConditionalGeneration } from './video-llava-for-conditional-generation.js';

// A config.json that disagrees with the ONNX files it sits beside (edited after conversion, or copied from another
// checkpoint) is refused when the part opens, naming the field; before, it was used silently.

const allParts: ModelPart[] = ['embed_tokens', 'decoder_model_merged', 'image_encoder', 'video_encoder'];

async function loadWith(
  edit: (config: Record<string, any>) => void,
  preload: ModelPart[] = allParts,
): Promise<VideoLlavaError | undefined> {
  const config = miniConfigJson();
  edit(config);
  const backend = createMockBackend({ models: miniModels() });
  try {
    const model = await VideoLlavaForConditionalGeneration.fromPretrained(
      new MemorySource(PARTS, { 'config.json': config }),
      { backend, preload },
    );
    await model.release();
    return undefined;
  } catch (error) {
    if (!VideoLlavaError.isInstance(error)) throw error;
    return error;
  } finally {
    // A part refused after it opened is released, not left open.
    expect(backend.sessions.every(({ session }) => session.released)).toBe(true);
  }
}

describe('checkConfigAgainstOnnx', () => {
  it('the untouched config loads every part', async () => {
    expect(await loadWith(() => {})).toBeUndefined();
  });

  it('text_config.hidden_size edited: refused naming the field, with both sizes', async () => {
    const error = await loadWith((config) => {
      config.text_config.hidden_size = 16;
    });
    expect(error).toMatchObject({
      code: 'INVALID_CONFIG',
      field: 'text_config.hidden_size',
      expected: 8,
      actual: 16,
      file: 'memory://mini-video-llava/config.json',
    });
    expect(error!.message).toContain('onnx/embed_tokens.onnx has 8 (output inputs_embeds, axis 2');
  });

  it('text_config.vocab_size edited: refused when the decoder opens', async () => {
    const error = await loadWith((config) => {
      config.text_config.vocab_size = 50;
    });
    expect(error).toMatchObject({ code: 'INVALID_CONFIG', field: 'text_config.vocab_size', expected: 40, actual: 50 });
    expect(error!.message).toContain('onnx/decoder_model_merged.onnx');
  });

  it('vision_config.image_size edited: refused when an encoder opens', async () => {
    const error = await loadWith(
      (config) => {
        config.vision_config.image_size = 42;
      },
      ['image_encoder'],
    );
    expect(error).toMatchObject({
      code: 'INVALID_CONFIG',
      field: 'vision_config.image_size',
      expected: 28,
      actual: 42,
    });
  });
});

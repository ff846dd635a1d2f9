import { readFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '@video-llava/core';
import { RawImage } from '@video-llava/image-processor';
import { tinyFixture } from '@video-llava/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadVideoLlavaProcessor } from './node.js';
import type { VideoLlavaProcessor } from './video-llava-processor.js';

// Token expansion follows the processor config, not the fixture: checkpoints are written with edited
// processor_config.json files and loaded like a user's. Expected counts are transformers' VideoLlavaProcessor
// formulas worked by hand: per image (H // patch) * (W // patch) + num_additional_image_tokens, minus 1 under
// strategy "default"; per video frames * ((H // patch) * (W // patch) + num_additional_image_tokens).

type Json = Record<string, unknown>;

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'processor-config-'));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** The tiny checkpoint (without weights) with processor_config.json edited, loaded as a processor. */
async function processorWith(
  edit: (json: Json & { image_processor: Json; video_processor: Json }) => void,
): Promise<VideoLlavaProcessor> {
  const made = await mkdtemp(join(folder, 'checkpoint-'));
  const files = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'];
  await Promise.all(files.map((file) => copyFile(join(tinyFixture.model, file), join(made, file))));
  const json = JSON.parse(readFileSync(join(tinyFixture.model, 'processor_config.json'), 'utf8')) as Json & {
    image_processor: Json;
    video_processor: Json;
  };
  edit(json);
  await writeFile(join(made, 'processor_config.json'), JSON.stringify(json));
  return loadVideoLlavaProcessor(made);
}

function count(ids: Tensor<'int64'>, id: number): number {
  return Array.from(ids.data).filter((value) => value === BigInt(id)).length;
}

/** A video of `frames` frames already processed to `size` x `size`. */
function videoTensor(frames: number, size: number): Tensor<'float32'> {
  return new Tensor('float32', new Float32Array(frames * 3 * size * size), [1, frames, 3, size, size]);
}

const image = new RawImage(new Uint8Array(50 * 30 * 3).fill(77), 50, 30, 'RGB');
const prompt = 'USER: <image>\n<video>\nWhat happens? ASSISTANT:';

describe('VideoLlavaProcessor expands tokens by the processor config', () => {
  it('336 px crop, patch 14 (LLaVA-1.5 style): 576 per image, 577 per frame', async () => {
    const processor = await processorWith((json) => {
      for (const settings of [json.image_processor, json.video_processor]) {
        settings.size = { shortest_edge: 336 };
        settings.crop_size = { height: 336, width: 336 };
      }
    });
    expect(processor.config.derived).toMatchObject({ tokensPerImage: 576, tokensPerFrame: 577 });
    const output = processor({ text: prompt, images: [image], pixelValuesVideos: videoTensor(2, 336) });
    expect(output.pixelValuesImages!.dims).toEqual([1, 3, 336, 336]);
    expect(count(output.inputIds, processor.imageTokenId)).toBe(24 * 24 + 1 - 1);
    expect(count(output.inputIds, processor.videoTokenId)).toBe(2 * (24 * 24 + 1));
  });

  it('strategy "full" keeps the CLS for images: 257 per image at 224', async () => {
    const processor = await processorWith((json) => {
      json.vision_feature_select_strategy = 'full';
    });
    const output = processor({ text: prompt, images: [image], pixelValuesVideos: videoTensor(3, 224) });
    expect(count(output.inputIds, processor.imageTokenId)).toBe(16 * 16 + 1);
    expect(count(output.inputIds, processor.videoTokenId)).toBe(3 * (16 * 16 + 1));
  });

  it('num_additional_image_tokens 0 and 2 change every count (default still drops one for images)', async () => {
    for (const extra of [0, 2]) {
      const processor = await processorWith((json) => {
        json.num_additional_image_tokens = extra;
      });
      const output = processor({ text: prompt, images: [image], pixelValuesVideos: videoTensor(2, 224) });
      expect(count(output.inputIds, processor.imageTokenId), `extra ${extra}`).toBe(16 * 16 + extra - 1);
      expect(count(output.inputIds, processor.videoTokenId), `extra ${extra}`).toBe(2 * (16 * 16 + extra));
    }
  });

  it('an exact {height, width} size without a crop, and another patch size, give (H // patch) * (W // patch)', async () => {
    const processor = await processorWith((json) => {
      json.patch_size = 16;
      for (const settings of [json.image_processor, json.video_processor]) {
        settings.size = { height: 240, width: 320 };
        settings.do_center_crop = false;
      }
    });
    const output = processor({
      text: prompt,
      images: [image],
      pixelValuesVideos: new Tensor('float32', new Float32Array(3 * 240 * 320), [1, 1, 3, 240, 320]),
    });
    expect(output.pixelValuesImages!.dims).toEqual([1, 3, 240, 320]);
    expect(count(output.inputIds, processor.imageTokenId)).toBe(15 * 20);
    expect(count(output.inputIds, processor.videoTokenId)).toBe(15 * 20 + 1);
  });
});

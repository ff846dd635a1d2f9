import { loadPretrainedConfigFrom } from '@video-llava/config/node';
import { Tensor } from '@video-llava/core';
import { join } from 'node:path';
import { loadImage } from '@video-llava/image-processor/node';
import { assertClose, fixtureCases, tinyFixture } from '@video-llava/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadVideoLlavaProcessor } from './node.js';
import { VideoLlavaProcessor } from './video-llava-processor.js';

/** The reference pixel tensors of refs/ stacked along the first axis (images) as the reference processor did. */
function referenceImages(names: readonly string[]): Tensor<'float32'> | undefined {
  if (names.length === 0) return undefined;
  const tensors = names.map((name) => tinyFixture.npy('pixel_values', `${name}.npy`) as Tensor<'float32'>);
  const [, ...inner] = tensors[0]!.dims;
  const data = new Float32Array(tensors.reduce((size, tensor) => size + tensor.size, 0));
  let offset = 0;
  for (const tensor of tensors) {
    data.set(tensor.data, offset);
    offset += tensor.size;
  }
  return new Tensor('float32', data, [tensors.length, ...inner]);
}

const referenceVideo = tinyFixture.npy('pixel_values_videos_sample.npy') as Tensor<'float32'>;

function repeatVideo(count: number): Tensor<'float32'> {
  const data = new Float32Array(referenceVideo.size * count);
  for (let index = 0; index < count; index++) data.set(referenceVideo.data, index * referenceVideo.size);
  return new Tensor('float32', data, [count, ...referenceVideo.dims.slice(1)]);
}

let processor: VideoLlavaProcessor;
beforeAll(async () => {
  processor = await loadVideoLlavaProcessor(tinyFixture.model);
});

describe('VideoLlavaProcessor against refs/cases.json (input_ids and attention_mask exact)', () => {
  it.each(fixtureCases().map((fixtureCase) => [fixtureCase.name, fixtureCase] as const))('%s', (_, fixtureCase) => {
    const pixelValuesImages = referenceImages(fixtureCase.images);
    const output = processor({
      text: fixtureCase.text,
      ...(pixelValuesImages ? { pixelValuesImages } : {}),
      ...(fixtureCase.videos > 0 ? { pixelValuesVideos: repeatVideo(fixtureCase.videos) } : {}),
    });
    const inputIds = tinyFixture.npy(`case_${fixtureCase.name}`, 'input_ids.npy');
    const attentionMask = tinyFixture.npy(`case_${fixtureCase.name}`, 'attention_mask.npy');
    expect(output.inputIds.dtype).toBe('int64');
    expect(output.inputIds.dims).toEqual(inputIds.dims);
    expect(output.inputIds.data).toEqual(inputIds.data);
    expect(output.attentionMask.dtype).toBe('int64');
    expect(output.attentionMask.dims).toEqual(attentionMask.dims);
    expect(output.attentionMask.data).toEqual(attentionMask.data);
    expect(output.pixelValuesImages === undefined).toBe(fixtureCase.images.length === 0);
    expect(output.pixelValuesVideos === undefined).toBe(fixtureCase.videos === 0);
    // Counts as the reference recorded them.
    const ids = Array.from(output.inputIds.data);
    expect(ids.filter((id) => id === BigInt(processor.imageTokenId))).toHaveLength(fixtureCase.n_image_tokens);
    expect(ids.filter((id) => id === BigInt(processor.videoTokenId))).toHaveLength(fixtureCase.n_video_tokens);
  });

  it('is the same through process() and with a single image / video without the batch axis', () => {
    const fixtureCase = fixtureCases().find((entry) => entry.name === 'image_and_video')!;
    const image = referenceImages(fixtureCase.images)!;
    const output = processor.process({
      text: fixtureCase.text[0]!,
      pixelValuesImages: image.reshape(image.dims.slice(1)),
      pixelValuesVideos: referenceVideo.reshape(referenceVideo.dims.slice(1)),
    });
    expect(output.inputIds.data).toEqual(tinyFixture.npy('case_image_and_video', 'input_ids.npy').data);
    expect(output.pixelValuesVideos!.dims).toEqual(referenceVideo.dims);
  });

  it('counts video tokens from the actual number of frames', async () => {
    const config = await loadPretrainedConfigFrom(tinyFixture.model);
    const frames = 3;
    const frameSize = referenceVideo.size / referenceVideo.dims[1]!;
    const short = new Tensor('float32', referenceVideo.data.slice(0, frames * frameSize), [
      1,
      frames,
      ...referenceVideo.dims.slice(2),
    ]);
    const output = processor({ text: 'USER: <video>\nWhy? ASSISTANT:', pixelValuesVideos: short });
    const videoIds = Array.from(output.inputIds.data).filter((id) => id === BigInt(processor.videoTokenId));
    expect(videoIds).toHaveLength(config.derived.tokensPerFrame * frames);
  });

  it('decodes a batch tensor row by row', () => {
    const fixtureCase = fixtureCases().find((entry) => entry.name === 'batch_left_padded')!;
    const inputIds = tinyFixture.npy('case_batch_left_padded', 'input_ids.npy') as Tensor<'int64'>;
    const decoded = processor.batchDecode(inputIds, { skipSpecialTokens: true });
    fixtureCase.decoded.forEach((text, row) => expect(text.startsWith(decoded[row]!)).toBe(true));
  });
});

describe('VideoLlavaProcessor errors the reference gets wrong (refs/errors.json)', () => {
  const errors = tinyFixture.json<Array<{ name: string; processor: string }>>('errors.json');
  const image = () => referenceImages(['landscape_640x480.png'])!;

  it('the reference accepted an <image> token without images; here it is TOKEN_COUNT_MISMATCH with the counts', () => {
    expect(errors.find((entry) => entry.name === 'image_token_without_image')!.processor).toMatch(/^ok/);
    expect(() => processor({ text: 'USER: <image>\nWhat is this? ASSISTANT:' })).toThrowError(
      expect.objectContaining({
        code: 'TOKEN_COUNT_MISMATCH',
        field: 'text',
        actual: { tokens: 1, images: 0 },
        message: expect.stringContaining('1 <image> token'),
      }),
    );
  });

  it('the reference raised a bare StopIteration for more <image> tokens than images', () => {
    expect(errors.find((entry) => entry.name === 'two_tokens_one_image')!.processor).toMatch(/StopIteration/);
    expect(() =>
      processor({ text: 'USER: <image>\n<image>\nCompare. ASSISTANT:', pixelValuesImages: image() }),
    ).toThrowError(
      expect.objectContaining({
        code: 'TOKEN_COUNT_MISMATCH',
        field: 'text',
        actual: { tokens: 2, images: 1 },
        message: expect.stringContaining('2 <image> tokens but 1 image was given'),
      }),
    );
  });

  it('the reference accepted images without <image> tokens (and failed in the model); here it is an error', () => {
    expect(errors.find((entry) => entry.name === 'image_without_token')!.processor).toMatch(/^ok/);
    expect(() => processor({ text: 'USER: What is this? ASSISTANT:', pixelValuesImages: image() })).toThrowError(
      expect.objectContaining({ code: 'TOKEN_COUNT_MISMATCH', field: 'images', actual: { tokens: 0, images: 1 } }),
    );
  });

  it('the reference accepted a <video> token without videos; here it is an error', () => {
    expect(errors.find((entry) => entry.name === 'video_token_without_video')!.processor).toMatch(/^ok/);
    expect(() => processor({ text: 'USER: <video>\nWhy? ASSISTANT:' })).toThrowError(
      expect.objectContaining({ code: 'TOKEN_COUNT_MISMATCH', field: 'text', actual: { tokens: 1, videos: 0 } }),
    );
  });

  it('more <video> tokens than videos, and videos without tokens', () => {
    expect(() =>
      processor({ text: 'USER: <video>\n<video>\nWhy? ASSISTANT:', pixelValuesVideos: referenceVideo }),
    ).toThrowError(expect.objectContaining({ code: 'TOKEN_COUNT_MISMATCH', actual: { tokens: 2, videos: 1 } }));
    expect(() => processor({ text: 'USER: Why? ASSISTANT:', pixelValuesVideos: referenceVideo })).toThrowError(
      expect.objectContaining({ code: 'TOKEN_COUNT_MISMATCH', field: 'videos', actual: { tokens: 0, videos: 1 } }),
    );
  });

  it('counts placeholders over the whole batch and names each prompt', () => {
    expect(() =>
      processor({ text: ['USER: <image>\nA ASSISTANT:', 'USER: <image>\nB ASSISTANT:'], pixelValuesImages: image() }),
    ).toThrowError(
      expect.objectContaining({ code: 'TOKEN_COUNT_MISMATCH', message: expect.stringContaining('per prompt: 1, 1') }),
    );
  });

  it('a prompt longer than max_position_embeddings after expansion is SEQUENCE_TOO_LONG with the counts', async () => {
    const config = await loadPretrainedConfigFrom(tinyFixture.model);
    const limit = config.model.textConfig.maxPositionEmbeddings;
    const videos = Math.floor(limit / config.derived.tokensPerVideo) + 1;
    const text = `USER: ${'<video>\n'.repeat(videos)}Why? ASSISTANT:`;
    let thrown: unknown;
    try {
      processor({ text, pixelValuesVideos: repeatVideo(videos) });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({
      code: 'SEQUENCE_TOO_LONG',
      field: 'text_config.max_position_embeddings',
      file: expect.stringContaining('config.json'),
    });
    const error = thrown as { message: string; actual: number };
    expect(error.actual).toBeGreaterThan(limit);
    expect(error.message).toContain(`${videos * config.derived.tokensPerVideo} of them image/video tokens`);
    expect(error.message).toContain(`max_position_embeddings ${limit}`);
  });

  it('pixel tensors whose size implies other token counts than the config are SHAPE_MISMATCH', () => {
    const wrong = new Tensor('float32', new Float32Array(3 * 112 * 112), [1, 3, 112, 112]);
    expect(() => processor({ text: 'USER: <image>\nA ASSISTANT:', pixelValuesImages: wrong })).toThrowError(
      expect.objectContaining({ code: 'SHAPE_MISMATCH', field: 'pixelValuesImages' }),
    );
    expect(() =>
      processor({
        text: 'USER: <image>\nA ASSISTANT:',
        pixelValuesImages: new Tensor('float32', new Float32Array(4), [4]),
      }),
    ).toThrowError(expect.objectContaining({ code: 'SHAPE_MISMATCH', field: 'pixelValuesImages.dims' }));
  });

  it('media given twice is INVALID_ARGUMENT; an empty list counts as none', () => {
    expect(() => processor({ text: 'USER: <video>\nA ASSISTANT:', videos: [] })).toThrowError(
      expect.objectContaining({ code: 'TOKEN_COUNT_MISMATCH' }),
    );
    expect(() =>
      processor({ text: 'USER: <image>\nA ASSISTANT:', images: [], pixelValuesImages: image() }),
    ).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'pixelValuesImages' }));
  });

  it('unequal prompts without padding, or longer than maxLength, are INVALID_ARGUMENT', () => {
    expect(() =>
      processor({ text: ['USER: Hi ASSISTANT:', 'USER: Hello there ASSISTANT:'], padding: false }),
    ).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'padding' }));
    expect(() => processor({ text: 'USER: Hello there ASSISTANT:', padding: 'max_length', maxLength: 3 })).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'text[0]' }),
    );
  });
});

describe('VideoLlavaProcessor with raw images and video frames (through the image and video processors)', () => {
  it('the image_and_video case from the PNG and the sampled frames: ids exact, pixels within 1e-5', async () => {
    const fixtureCase = fixtureCases().find((entry) => entry.name === 'image_and_video')!;
    const images = await Promise.all(fixtureCase.images.map((name) => loadImage(join(tinyFixture.images, name))));
    const frames = tinyFixture.npy('video_sampled_frames.npy') as Tensor<'uint8'>;
    const output = processor({ text: fixtureCase.text, images, videos: frames });
    expect(output.inputIds.data).toEqual(tinyFixture.npy('case_image_and_video', 'input_ids.npy').data);
    expect(output.attentionMask.data).toEqual(tinyFixture.npy('case_image_and_video', 'attention_mask.npy').data);
    expect(output.pixelValuesImages!.dims).toEqual([1, ...referenceImages(fixtureCase.images)!.dims.slice(1)]);
    assertClose(output.pixelValuesImages!.data, referenceImages(fixtureCase.images)!.data, 1e-5, 'pixelValuesImages');
    expect(output.pixelValuesVideos!.dims).toEqual(referenceVideo.dims);
    assertClose(output.pixelValuesVideos!.data, referenceVideo.data, 1e-5, 'pixelValuesVideos');
  });
});

describe('VideoLlavaProcessor padding and prompts', () => {
  it('pads to maxLength on the left with the pad id of the tokenizer', () => {
    const text = 'USER: What is the capital of France? ASSISTANT:';
    const plain = processor({ text });
    const length = plain.inputIds.dims[1]!;
    const padded = processor({ text, padding: 'max_length', maxLength: length + 3 });
    const pad = BigInt(processor.tokenizer.padTokenId!);
    expect(Array.from(padded.inputIds.data)).toEqual([pad, pad, pad, ...plain.inputIds.data]);
    expect(Array.from(padded.attentionMask.data)).toEqual([0n, 0n, 0n, ...plain.attentionMask.data]);
  });

  it('builds the reference prompts of refs/cases.json from chat messages (no chat template in the checkpoint)', async () => {
    expect(processor.chatTemplate).toBeNull();
    const cases = fixtureCases();
    const byName = (name: string) => cases.find((entry) => entry.name === name)!.text[0];
    expect(
      await processor.applyChatTemplate([
        { role: 'user', content: [{ type: 'video' }, { type: 'text', text: 'Why is this funny?' }] },
      ]),
    ).toBe(byName('video'));
    expect(
      await processor.applyChatTemplate([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Does the picture appear in the video?' },
            { type: 'video' },
            { type: 'image' },
          ],
        },
      ]),
    ).toBe(byName('image_and_video'));
    expect(await processor.applyChatTemplate([{ role: 'user', content: 'What is the capital of France?' }])).toBe(
      byName('text_only'),
    );
  });

  it('formats history as Video-LLaVA (Vicuna v1): answers end with </s>', async () => {
    const prompt = await processor.applyChatTemplate([
      { role: 'user', content: [{ type: 'video' }, { type: 'text', text: 'What do you see?' }] },
      { role: 'assistant', content: 'A baby reading a book.' },
      { role: 'user', content: 'Why is it funny?' },
    ]);
    expect(prompt).toBe(
      'USER: <video>\nWhat do you see? ASSISTANT: A baby reading a book.</s>USER: Why is it funny? ASSISTANT:',
    );
  });

  it('is recognised by isInstance and keeps its methods when called', () => {
    expect(VideoLlavaProcessor.isInstance(processor)).toBe(true);
    expect(VideoLlavaProcessor.isInstance({})).toBe(false);
    expect(typeof processor).toBe('function');
    expect(processor.decode(processor.tokenizer.encode('Hello world').ids, { skipSpecialTokens: true })).toBe(
      'Hello world',
    );
  });
});

import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '@video-llava/core';
import { generationOptionsFromTransformers } from '@video-llava/generation';
import { type FixtureCase, fixtureCases, tinyFixture } from '@video-llava/test-utils';
import { createNodeBackend } from '@video-llava/runtime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertedFixture } from '../test/converted-fixture.js';
import { VideoLlava } from './index.js';

// The fp32 conversion of fixtures/video-llava-tiny/model (test/converted-fixture.ts), run with onnxruntime-node from the
// fixture's own pixel inputs, against what transformers generated. Tolerance: none, token ids are compared exactly
// (greedy tokens, the top-5 ids of every step, every row of a batch).
const cases = fixtureCases();
const numbers = (tensor: Tensor) => Array.from(tensor.data as BigInt64Array, Number);

function pixelInputs(fixtureCase: Pick<FixtureCase, 'images' | 'videos'>): {
  images: Tensor<'float32'>[];
  videos: Tensor<'float32'>[];
} {
  const video = tinyFixture.npy('pixel_values_videos_sample.npy') as Tensor<'float32'>;
  return {
    images: fixtureCase.images.map((image) => tinyFixture.npy('pixel_values', `${image}.npy`) as Tensor<'float32'>),
    videos: Array.from({ length: fixtureCase.videos }, () => video),
  };
}

/** The same inputs as the processor's pixel values (what `model.processor` and `model.model` take). */
function pixelValues({ images, videos }: { images: Tensor<'float32'>[]; videos: Tensor<'float32'>[] }): {
  pixelValuesImages?: Tensor<'float32'>;
  pixelValuesVideos?: Tensor<'float32'>;
} {
  return {
    ...(images.length ? { pixelValuesImages: stack(images) } : {}),
    ...(videos.length ? { pixelValuesVideos: stack(videos) } : {}),
  };
}

/** `[rows][steps][5]` as the reference stores step_top5_indices.npy. */
function topFiveRecorder(): {
  rows: number[][][];
  onStep: (step: { topK(k: number, of?: 'scores' | 'logits'): { indices: number[][] } }) => void;
} {
  const rows: number[][][] = [];
  return {
    rows,
    onStep: (step) => step.topK(5, 'scores').indices.forEach((indices, row) => (rows[row] ??= []).push(indices)),
  };
}

interface VariantRow {
  case: string;
  variant: string;
  options: Record<string, unknown>;
  generated: number[][];
}

/**
 * The prompt ids the variants were generated from. GENERATOR_EXTRA.py reloaded the processor from the saved folder
 * (`VideoLlavaProcessor.from_pretrained`), and that tokenizer wrote `<image>\n` / `<video>\n` as [placeholder, "\n"]:
 * without the SentencePiece "▁" (29871) that the first script's tokenizer, refs/cases.json's input_ids and
 * refs/tokenizer_public.json put between them (and that our processor writes). The generation_variants.json rows
 * are reproduced exactly from these ids, and only from them (with the processor's own ids, the image
 * repetition-penalty row departs at step 20, where two candidates are 0.0009 apart).
 */
function variantPromptIds(processorIds: number[], placeholder: number): number[] {
  const last = processorIds.lastIndexOf(placeholder);
  if (last < 0) return processorIds;
  expect(processorIds.slice(last + 1, last + 3)).toEqual([29871, 13]);
  return [...processorIds.slice(0, last + 1), ...processorIds.slice(last + 2)];
}

// Both decoders the converter writes: decoder_kv_buffer (the cache in buffers written in place; onnxruntime-node's
// default) and decoder_model_merged (Hugging Face's present.* contract; WebGPU's).
describe.each(['buffer', 'present'] as const)(
  'video-llava on the converted fixture (%s cache) matches transformers token for token',
  (decoderCache) => {
    // One model for every test of the block: each asks without the prefix cache, so none depends on another.
    let model: VideoLlava;
    beforeAll(async () => {
      model = await VideoLlava.load(await convertedFixture(), {
        prefixCache: false,
        decoderCache,
        sessionOptions: { threads: 1 },
      });
      expect(model.model.decoderCacheLayout).toBe(decoderCache);
    });
    afterAll(async () => {
      await model.release();
    });

    it.each(cases.map((fixtureCase) => [fixtureCase.name, fixtureCase] as const))(
      '%s: prompt ids, 24 greedy tokens and the top-5 ids of every step',
      async (name, fixtureCase) => {
        const { images, videos } = pixelInputs(fixtureCase);
        const directory = `case_${name}`;
        const inputs = model.processor({ text: fixtureCase.text, ...pixelValues({ images, videos }) });
        expect(numbers(inputs.inputIds)).toEqual(numbers(tinyFixture.npy(directory, 'input_ids.npy')));
        expect(numbers(inputs.attentionMask)).toEqual(numbers(tinyFixture.npy(directory, 'attention_mask.npy')));
        const expected = tinyFixture.npy(directory, 'generated_ids.npy');
        const [rows, steps] = expected.dims as [number, number];
        const top = topFiveRecorder();
        const answer = await model.generate({
          prompt: fixtureCase.text,
          images,
          videos,
          maxNewTokens: steps,
          doSample: false,
          onStep: top.onStep,
        });
        expect(answer.sequences).toHaveLength(rows);
        expect(answer.sequences.flatMap((sequence) => sequence.ids)).toEqual(numbers(expected));
        expect(answer.sequences.map((sequence) => sequence.finishReason)).toEqual(Array(rows).fill('length'));
        expect(top.rows.flat(2)).toEqual(numbers(tinyFixture.npy(directory, 'step_top5_indices.npy')));
      },
    );

    describe('generation_variants.json: repetition penalty, no-repeat n-gram, beam search, length penalty', () => {
      const rows = tinyFixture.json<VariantRow[]>('generation_variants.json');

      it.each(rows.map((row) => [`${row.case} ${row.variant}`, row] as const))(
        '%s gives the reference tokens exactly',
        async (_name, row) => {
          const fixtureCase = cases.find((candidate) => candidate.name === row.case)!;
          const { images, videos } = pixelInputs(fixtureCase);
          const media = pixelValues({ images, videos });
          const inputs = model.processor({ text: fixtureCase.text, ...media });
          const placeholder = images.length ? model.config.model.imageTokenIndex : model.config.model.videoTokenIndex;
          const inputIds = [variantPromptIds(numbers(inputs.inputIds), placeholder)];
          const result = await model.model.generate({
            inputIds,
            ...media,
            ...generationOptionsFromTransformers(row.options),
            prefixCache: false,
          });
          expect(result.generatedIds).toEqual(row.generated);
        },
      );

      it('with the processor ids instead, the image repetition-penalty row departs at step 20 (so the reference used the other ids)', async () => {
        const row = rows.find(
          (candidate) => candidate.case === 'image' && candidate.variant === 'repetition_penalty_1.3',
        )!;
        const fixtureCase = cases.find((candidate) => candidate.name === 'image')!;
        const answer = await model.generate({
          prompt: fixtureCase.text,
          ...pixelInputs(fixtureCase),
          ...generationOptionsFromTransformers(row.options),
        });
        expect(answer.ids.slice(0, 20)).toEqual(row.generated[0]!.slice(0, 20));
        expect(answer.ids[20]).not.toBe(row.generated[0]![20]);
      });
    });
  },
);

// decoder_kv_int8 (decoderCache 'int8'): the cache rounded to int8, updated in place by the in-place runner. Not exact by
// design (the converter's int8-cache test bounds its logits against the reference); on the fixture its greedy tokens
// are the reference's, for every case without padding, and a padded batch is refused by name.
describe('video-llava on the converted fixture (int8 cache)', () => {
  let model: VideoLlava;
  beforeAll(async () => {
    model = await VideoLlava.load(await convertedFixture(), {
      prefixCache: false,
      decoderCache: 'int8',
      sessionOptions: { threads: 1 },
    });
  });
  afterAll(async () => {
    await model.release();
  });
  const unpadded = cases.filter((fixtureCase) =>
    numbers(tinyFixture.npy(`case_${fixtureCase.name}`, 'attention_mask.npy')).every((value) => value === 1),
  );

  it.each(unpadded.map((fixtureCase) => [fixtureCase.name, fixtureCase] as const))(
    '%s: the 24 greedy tokens of transformers',
    async (name, fixtureCase) => {
      const expected = tinyFixture.npy(`case_${name}`, 'generated_ids.npy');
      const answer = await model.generate({
        prompt: fixtureCase.text,
        ...pixelInputs(fixtureCase),
        maxNewTokens: expected.dims[1]!,
        doSample: false,
      });
      expect(model.model.decoderCacheLayout).toBe('int8');
      expect(answer.ids).toEqual(numbers(expected));
    },
  );

  it('reuses the cached prefix (its int8 buffers and scales) for a follow-up, with the same tokens', async () => {
    const withPrefix = await VideoLlava.load(await convertedFixture(), {
      decoderCache: 'int8',
      sessionOptions: { threads: 1 },
    });
    try {
      const video = cases.find((fixtureCase) => fixtureCase.name === 'video')!;
      const expected = numbers(tinyFixture.npy('case_video', 'generated_ids.npy'));
      const request = { prompt: video.text, ...pixelInputs(video), maxNewTokens: 12, doSample: false };
      const first = await withPrefix.generate(request);
      expect(first.ids).toEqual(expected.slice(0, 12));
      const reusedBefore = withPrefix.model.statistics.reusedPrefixTokens;
      const again = await withPrefix.generate(request);
      expect(withPrefix.model.statistics.reusedPrefixTokens).toBeGreaterThan(reusedBefore);
      expect(again.ids).toEqual(expected.slice(0, 12));
    } finally {
      await withPrefix.release();
    }
  });

  it('refuses a padded batch, naming the option that takes one', async () => {
    const padded = cases.find((fixtureCase) => fixtureCase.name === 'batch_left_padded')!;
    const media = pixelValues(pixelInputs(padded));
    const inputs = model.processor({ text: padded.text, ...media });
    await expect(
      model.model.generate({
        inputIds: inputs.inputIds,
        attentionMask: inputs.attentionMask,
        ...media,
        maxNewTokens: 2,
      }),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining("decoderCache 'buffer'") });
  });
});

// onnxruntime's prepacked weights written to disk by the first load and memory-mapped by the next
// (@video-llava/runtime-node's prepackedCache): the second load's model gives the same tokens, exactly.
describe('video-llava loaded from the prepacked cache matches transformers token for token', () => {
  let model: VideoLlava;
  let cache: string;
  beforeAll(async () => {
    cache = await mkdtemp(join(tmpdir(), 'video-llava-prepacked-'));
    const folder = await convertedFixture();
    let written = 0;
    const load = () =>
      VideoLlava.load(folder, {
        backend: createNodeBackend({ prepackedCache: cache }),
        prefixCache: false,
        sessionOptions: { threads: 1, executionProviders: ['cpu'] },
        preload: ['embed_tokens', 'decoder_model_merged', 'image_encoder', 'video_encoder'],
        onProgress: (event) => {
          if (event.stage === 'prepack' && event.done === 1) written++;
        },
      });
    await (await load()).release();
    // embed_tokens, the buffer decoder and both encoders each wrote an entry
    expect(written).toBe(4);
    expect(await readdir(cache)).toHaveLength(4);
    model = await load();
    expect(written).toBe(4);
  });
  afterAll(async () => {
    await model?.release();
    await rm(cache, { recursive: true, force: true });
  });

  it.each(cases.map((fixtureCase) => [fixtureCase.name, fixtureCase] as const))(
    '%s: 24 greedy tokens and the top-5 ids of every step',
    async (name, fixtureCase) => {
      const { images, videos } = pixelInputs(fixtureCase);
      const expected = tinyFixture.npy(`case_${name}`, 'generated_ids.npy');
      const top = topFiveRecorder();
      const answer = await model.generate({
        prompt: fixtureCase.text,
        images,
        videos,
        maxNewTokens: expected.dims[1]!,
        doSample: false,
        onStep: top.onStep,
      });
      expect(answer.sequences.flatMap((sequence) => sequence.ids)).toEqual(numbers(expected));
      expect(top.rows.flat(2)).toEqual(numbers(tinyFixture.npy(`case_${name}`, 'step_top5_indices.npy')));
    },
  );
});

function stack(tensors: Tensor<'float32'>[]): Tensor<'float32'> {
  const inner = tensors[0]!.dims.slice(1);
  const data = new Float32Array(tensors.reduce((sum, tensor) => sum + tensor.size, 0));
  let offset = 0;
  for (const tensor of tensors) {
    data.set(tensor.data, offset);
    offset += tensor.size;
  }
  return new Tensor('float32', data, [tensors.reduce((sum, tensor) => sum + tensor.dims[0]!, 0), ...inner]);
}

import { Tensor, VideoLlavaError } from '@video-llava/core';
import { type MockBackend, createMockBackend } from '@video-llava/runtime/testing';
import { describe, expect, it } from 'vitest';
import {
  FRAMES,
  HEAD_DIM,
  IMAGE_ID,
  KV_HEADS,
  MemorySource,
  PARTS,
  TOKENS_PER_FRAME,
  TOKENS_PER_IMAGE,
  TOKENS_PER_VIDEO,
  VIDEO_ID,
  miniConfigJson,
  miniModels,
  miniProcessorJson,
} from '../test/mock-video-llava.js';
import { naiveGreedy } from '../test/naive-greedy.js';
import { VideoLlavaForConditionalGeneration } from './video-llava-for-conditional-generation.js';

function backend(): MockBackend {
  return createMockBackend({ models: miniModels() });
}

async function load(
  mock = backend(),
  options: { prefixCache?: boolean; device?: boolean } = {},
): Promise<VideoLlavaForConditionalGeneration> {
  return VideoLlavaForConditionalGeneration.fromPretrained(new MemorySource(), {
    backend: mock,
    prefixCache: options.prefixCache ?? true,
    ...(options.device
      ? {
          sessionOptions: (part) =>
            part === 'decoder_model_merged'
              ? { outputLocation: { 'present.0.key': 'device', 'present.0.value': 'device' } }
              : {},
        }
      : {}),
  });
}

/** Pixels whose mean differs per item (the mock's features follow the mean). */
function pixels(dims: number[], seed: number): Tensor<'float32'> {
  const size = dims.reduce((product, dim) => product * dim, 1);
  const data = new Float32Array(size);
  for (let index = 0; index < size; index++)
    data[index] = Math.fround(Math.sin(index * 0.013 + seed) * 0.5 + seed * 0.1);
  return new Tensor('float32', data, dims);
}

const imagePrompt = [1, 5, ...Array(TOKENS_PER_IMAGE).fill(IMAGE_ID), 6, 7];
const videoPrompt = [1, 5, ...Array(TOKENS_PER_VIDEO).fill(VIDEO_ID), 8, 9, 10];
const tensor2d = (rows: number[][]) =>
  new Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0]!.length]);
const noEos = { eosTokenId: [] as number[], doSample: false };

/** Two prompts, left padded: one with an image and the video, one with an image only (images, videos, ids, mask). */
function paddedBatch(): { images: Tensor<'float32'>; videos: Tensor<'float32'>; rows: number[][]; mask: number[][] } {
  const images = pixels([2, 3, 28, 28], 3);
  const videos = pixels([1, FRAMES, 3, 28, 28], 4);
  const long = [1, ...Array(TOKENS_PER_IMAGE).fill(IMAGE_ID), 11, ...Array(TOKENS_PER_VIDEO).fill(VIDEO_ID), 12];
  const short = [1, ...Array(TOKENS_PER_IMAGE).fill(IMAGE_ID), 13];
  const padding = long.length - short.length;
  const rows = [long, [...Array(padding).fill(39), ...short]];
  const mask = [long.map(() => 1), [...Array(padding).fill(0), ...short.map(() => 1)]];
  return { images, videos, rows, mask };
}

describe('VideoLlavaForConditionalGeneration (mock backend)', () => {
  it('loads the embeddings and the decoder, and each encoder only when its media first come', async () => {
    const mock = backend();
    const model = await load(mock);
    expect(model.loadedParts.sort()).toEqual(['decoder_model_merged', 'embed_tokens']);
    await model.generate({ inputIds: [[1, 5, 6]], maxNewTokens: 2, ...noEos });
    expect(model.loadedParts).not.toContain('image_encoder');
    expect(model.loadedParts).not.toContain('video_encoder');
    await model.generate({
      inputIds: [videoPrompt],
      pixelValuesVideos: pixels([1, FRAMES, 3, 28, 28], 1),
      maxNewTokens: 2,
      ...noEos,
    });
    expect(model.loadedParts).toContain('video_encoder');
    expect(model.loadedParts).not.toContain('image_encoder');
    await model.generate({
      inputIds: [imagePrompt],
      pixelValuesImages: pixels([1, 3, 28, 28], 2),
      maxNewTokens: 2,
      ...noEos,
    });
    expect(model.loadedParts).toContain('image_encoder');
    expect(mock.sessions.map((session) => session.model).sort()).toEqual([...PARTS].sort());
    await model.release();
    expect(mock.sessions.every((session) => session.session.released)).toBe(true);
  });

  it('matches greedy decoding without a cache on a left-padded batch with images and a video', async () => {
    const { images, videos, rows, mask } = paddedBatch();
    const expected = await naiveGreedy(rows, mask, { images, videos }, 6);
    const model = await load();
    const result = await model.generate({
      inputIds: tensor2d(rows),
      attentionMask: tensor2d(mask),
      pixelValuesImages: images,
      pixelValuesVideos: videos,
      maxNewTokens: 6,
      ...noEos,
    });
    expect(result.generatedIds).toEqual(expected);
    await model.release();
  });

  it('writes the features into the placeholder positions and derives position ids from the attention mask', async () => {
    const mock = backend();
    const model = await load(mock);
    const rows = [[39, 39, ...imagePrompt.slice(0, -2)], imagePrompt];
    const mask = [[0, 0, ...imagePrompt.slice(0, -2).map(() => 1)], imagePrompt.map(() => 1)];
    const withTwoImages = await model.generate({
      inputIds: tensor2d(rows),
      attentionMask: tensor2d(mask),
      pixelValuesImages: pixels([2, 3, 28, 28], 5),
      maxNewTokens: 3,
      ...noEos,
    });
    expect(withTwoImages.generatedIds).toHaveLength(2);
    const decoderRuns = mock.runs.filter((run) => run.model === 'onnx/decoder_model_merged.onnx');
    const prefill = decoderRuns[0]!;
    expect(Array.from(prefill.feeds.position_ids!.data as BigInt64Array, Number)).toEqual([
      1, 1, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 6, 7,
    ]);
    const encoder = mock.runs.find((run) => run.model === 'onnx/image_encoder.onnx')!;
    expect(encoder.feeds.pixel_values!.dims).toEqual([2, 3, 28, 28]);
    const features = (
      await miniModels()['onnx/image_encoder.onnx']!.run(encoder.feeds, { outputs: [], runIndex: 0, model: '' })
    ).image_features!.data as Float32Array;
    const embeds = prefill.feeds.inputs_embeds!.data as Float32Array;
    // Row 0's placeholders (positions 4..7) take image 0's rows, row 1's (positions 2..5, flat 10..13) image 1's.
    expect(Array.from(embeds.subarray(4 * 8, 8 * 8))).toEqual(Array.from(features.subarray(0, 4 * 8)));
    expect(Array.from(embeds.subarray(10 * 8, 14 * 8))).toEqual(Array.from(features.subarray(4 * 8, 8 * 8)));
    // Steps feed the cache back: one new position, the mask and the past growing by one each time.
    const steps = decoderRuns.slice(1);
    expect(steps.map((run) => run.feeds.inputs_embeds!.dims[1])).toEqual([1, 1]);
    expect(steps.map((run) => run.feeds['past_key_values.0.key']!.dims[2])).toEqual([8, 9]);
    expect(steps.map((run) => Array.from(run.feeds.position_ids!.data as BigInt64Array, Number))).toEqual([
      [6, 8],
      [7, 9],
    ]);
    await model.release();
  });

  it('reuses the cached prefix for a follow-up about the same video: no encoder run, only the new tokens prefilled, same tokens', async () => {
    const video = pixels([1, FRAMES, 3, 28, 28], 6);
    const model = await load();
    const first = await model.generate({
      inputIds: [videoPrompt],
      pixelValuesVideos: video,
      maxNewTokens: 4,
      ...noEos,
    });
    expect(model.statistics.videoEncoderRuns).toBe(1);
    expect(model.statistics.prefillTokens).toBe(videoPrompt.length);
    expect(model.prefixCacheLength).toBe(videoPrompt.length + 3);
    const followUp = [...videoPrompt, ...first.generatedIds[0]!, 2, 14, 15, 16];
    model.resetStatistics();
    const second = await model.generate({ inputIds: [followUp], pixelValuesVideos: video, maxNewTokens: 4, ...noEos });
    expect(model.statistics.videoEncoderRuns).toBe(0);
    expect(model.statistics.reusedPrefixTokens).toBe(videoPrompt.length + 3);
    expect(model.statistics.prefillTokens).toBe(followUp.length - (videoPrompt.length + 3));
    const fresh = await load(backend(), { prefixCache: false });
    const expected = await fresh.generate({
      inputIds: [followUp],
      pixelValuesVideos: video,
      maxNewTokens: 4,
      ...noEos,
    });
    expect(fresh.statistics.videoEncoderRuns).toBe(1);
    expect(fresh.statistics.prefillTokens).toBe(followUp.length);
    expect(second.generatedIds).toEqual(expected.generatedIds);
    await Promise.all([model.release(), fresh.release()]);
  });

  it('encodes again when the follow-up brings a different video behind the same placeholders', async () => {
    const model = await load();
    await model.generate({
      inputIds: [videoPrompt],
      pixelValuesVideos: pixels([1, FRAMES, 3, 28, 28], 7),
      maxNewTokens: 2,
      ...noEos,
    });
    model.resetStatistics();
    const other = pixels([1, FRAMES, 3, 28, 28], 8);
    const result = await model.generate({
      inputIds: [videoPrompt],
      pixelValuesVideos: other,
      maxNewTokens: 2,
      ...noEos,
    });
    expect(model.statistics.videoEncoderRuns).toBe(1);
    // Only the two ids before the video are reused.
    expect(model.statistics.reusedPrefixTokens).toBe(2);
    expect(result.generatedIds).toEqual(
      await naiveGreedy([videoPrompt], [videoPrompt.map(() => 1)], { videos: other }, 2),
    );
    await model.release();
  });

  it('refuses prompts whose placeholders and media disagree, before running anything', async () => {
    const mock = backend();
    const model = await load(mock);
    const cases: [string, Parameters<VideoLlavaForConditionalGeneration['generate']>[0], unknown][] = [
      ['<image> tokens without an image', { inputIds: [imagePrompt] }, '0 <image> tokens'],
      [
        'an image without tokens',
        { inputIds: [[1, 5, 6]], pixelValuesImages: pixels([1, 3, 28, 28], 1) },
        `${TOKENS_PER_IMAGE} <image> tokens`,
      ],
      [
        'two images for one placeholder',
        { inputIds: [imagePrompt], pixelValuesImages: pixels([2, 3, 28, 28], 1) },
        `${2 * TOKENS_PER_IMAGE} <image> tokens`,
      ],
      [
        'a video cut short',
        { inputIds: [videoPrompt.slice(0, -10)], pixelValuesVideos: pixels([1, FRAMES, 3, 28, 28], 1) },
        `${TOKENS_PER_VIDEO} <video> tokens`,
      ],
    ];
    for (const [name, options, expected] of cases) {
      const error = await model.generate({ ...options, maxNewTokens: 2 }).catch((caught: unknown) => caught);
      expect(VideoLlavaError.isInstance(error), name).toBe(true);
      expect((error as VideoLlavaError).code, name).toBe('TOKEN_COUNT_MISMATCH');
      expect((error as VideoLlavaError).field, name).toBe('inputIds');
      expect((error as VideoLlavaError).expected, name).toBe(expected);
    }
    expect(mock.runs).toHaveLength(0);
    await model.release();
  });

  it('an aborted generation returns the tokens so far and frees its device cache; release frees the kept prefix', async () => {
    const mock = backend();
    const model = await load(mock, { device: true, prefixCache: false });
    const controller = new AbortController();
    const result = await model.generate({
      inputIds: [videoPrompt],
      pixelValuesVideos: pixels([1, FRAMES, 3, 28, 28], 9),
      maxNewTokens: 10,
      ...noEos,
      signal: controller.signal,
      onStep: (step) => {
        if (step.step === 2) controller.abort();
      },
    });
    expect(result.finishReasons).toEqual(['abort']);
    expect(result.lengths).toEqual([3]);
    expect(mock.liveDeviceTensors).toBe(0);
    const kept = await load(mock, { device: true });
    await kept.generate({
      inputIds: [videoPrompt],
      pixelValuesVideos: pixels([1, FRAMES, 3, 28, 28], 9),
      maxNewTokens: 3,
      ...noEos,
    });
    expect(mock.liveDeviceTensors).toBe(2);
    await kept.release();
    expect(mock.liveDeviceTensors).toBe(0);
    await model.release();
  });

  it('an abort during the prefill returns no tokens and leaves nothing behind', async () => {
    const mock = backend();
    const model = await load(mock, { device: true });
    const controller = new AbortController();
    controller.abort();
    const result = await model.generate({
      inputIds: [videoPrompt],
      pixelValuesVideos: pixels([1, FRAMES, 3, 28, 28], 9),
      maxNewTokens: 4,
      ...noEos,
      signal: controller.signal,
    });
    expect(result.finishReasons).toEqual(['abort']);
    expect(result.generatedIds).toEqual([[]]);
    expect(mock.liveDeviceTensors).toBe(0);
    expect(model.prefixCacheLength).toBe(0);
    await model.release();
  });

  it('beam search reorders the device cache and frees every copy', async () => {
    const mock = backend();
    const model = await load(mock, { device: true });
    const result = await model.generate({
      inputIds: [imagePrompt],
      pixelValuesImages: pixels([1, 3, 28, 28], 10),
      numBeams: 3,
      maxNewTokens: 5,
      ...noEos,
    });
    expect(result.generatedIds[0]).toHaveLength(5);
    expect(model.prefixCacheLength).toBe(0);
    expect(mock.liveDeviceTensors).toBe(0);
    await model.release();
  });

  it.each([
    ['a scalar', true, []],
    ['[1]', 'vector', [1]],
  ] as const)(
    'feeds num_logits_to_keep (%s) where the decoder has it: 1 while generating, 0 for all positions; the same tokens',
    async (_, numLogitsToKeep, dims) => {
      const { images, videos, rows, mask } = paddedBatch();
      const expected = await naiveGreedy(rows, mask, { images, videos }, 6);
      const mock = createMockBackend({ models: miniModels({ numLogitsToKeep }) });
      const model = await load(mock);
      const result = await model.generate({
        inputIds: tensor2d(rows),
        attentionMask: tensor2d(mask),
        pixelValuesImages: images,
        pixelValuesVideos: videos,
        maxNewTokens: 6,
        ...noEos,
      });
      expect(result.generatedIds).toEqual(expected);
      const decoderRuns = mock.runs.filter((run) => run.model === 'onnx/decoder_model_merged.onnx');
      expect(decoderRuns).toHaveLength(6);
      for (const run of decoderRuns) {
        expect(run.feeds.num_logits_to_keep!.dims).toEqual(dims);
        expect(run.feeds.num_logits_to_keep!.data).toEqual(BigInt64Array.of(1n));
      }
      // Every position's logits where the caller asks for them.
      const inputIds = tensor2d([[1, 5, 6, 7]]);
      const attentionMask = tensor2d([[1, 1, 1, 1]]);
      const all = await model.runDecoder({
        inputsEmbeds: await model.embedTokens(inputIds),
        attentionMask,
        positionIds: tensor2d([[0, 1, 2, 3]]),
        cache: await model.emptyCache(1),
      });
      expect(mock.runs.at(-1)!.feeds.num_logits_to_keep!.data).toEqual(BigInt64Array.of(0n));
      expect(all.logits).toHaveLength(4 * model.vocabSize);
      const last = await model.runDecoder({
        inputsEmbeds: await model.embedTokens(inputIds),
        attentionMask,
        positionIds: tensor2d([[0, 1, 2, 3]]),
        cache: await model.emptyCache(1),
        lastPositionOnly: true,
      });
      expect(last.logits).toEqual(all.logits.subarray(3 * model.vocabSize));
      await model.release();
    },
  );

  it('runs a decoder without num_logits_to_keep (other exporters): every position comes back, the last is kept', async () => {
    const mock = backend();
    const model = await load(mock, { prefixCache: false });
    await model.generate({
      inputIds: [videoPrompt],
      pixelValuesVideos: pixels([1, FRAMES, 3, 28, 28], 1),
      maxNewTokens: 2,
      ...noEos,
    });
    const decoderRuns = mock.runs.filter((run) => run.model === 'onnx/decoder_model_merged.onnx');
    expect(decoderRuns).toHaveLength(2);
    for (const run of decoderRuns) expect(run.feeds).not.toHaveProperty('num_logits_to_keep');
    await model.release();
  });

  it('refuses a num_logits_to_keep input that is not an int64 scalar or [1]', async () => {
    for (const declared of [
      { dtype: 'float32', shape: [] },
      { dtype: 'int64', shape: [2] },
    ] as const) {
      const models = miniModels();
      const decoder = models['onnx/decoder_model_merged.onnx']!;
      models['onnx/decoder_model_merged.onnx'] = {
        ...decoder,
        inputs: [...decoder.inputs, { name: 'num_logits_to_keep', ...declared }],
      };
      const error = await VideoLlavaForConditionalGeneration.fromPretrained(new MemorySource(), {
        backend: createMockBackend({ models }),
      }).catch((caught: unknown) => caught);
      expect((error as VideoLlavaError).code).toBe('INVALID_FILE');
      expect((error as VideoLlavaError).field).toBe('num_logits_to_keep');
    }
  });

  it('names the missing file of an unconverted folder and refuses a decoder that breaks the contract', async () => {
    const missing = await VideoLlavaForConditionalGeneration.fromPretrained(
      new MemorySource(PARTS.filter((part) => !part.includes('decoder'))),
      { backend: backend() },
    ).catch((error: unknown) => error);
    expect((missing as VideoLlavaError).code).toBe('FILE_NOT_FOUND');
    expect((missing as VideoLlavaError).file).toBe('memory://mini-video-llava/onnx/decoder_model_merged.onnx');
    expect((missing as Error).message).toMatch(/video-llava convert/);
    const models = miniModels();
    const decoder = models['onnx/decoder_model_merged.onnx']!;
    models['onnx/decoder_model_merged.onnx'] = {
      ...decoder,
      outputs: decoder.outputs.filter((output) => output.name !== 'present.0.value'),
    };
    const broken = await VideoLlavaForConditionalGeneration.fromPretrained(new MemorySource(), {
      backend: createMockBackend({ models }),
    }).catch((error: unknown) => error);
    expect((broken as VideoLlavaError).code).toBe('INVALID_FILE');
    expect((broken as Error).message).toMatch(/missing output present\.0\.value/);
  });

  it('shapes the empty cache from num_key_value_heads and head_dim (grouped-query attention, head_dim != width / heads)', async () => {
    const model = await load();
    const cache = await model.emptyCache(3);
    expect(model.config.model.textConfig).toMatchObject({
      numAttentionHeads: 4,
      numKeyValueHeads: KV_HEADS,
      headDim: HEAD_DIM,
      hiddenSize: 8,
    });
    for (const tensor of Object.values(cache.tensors)) expect(tensor.dims).toEqual([3, KV_HEADS, 0, HEAD_DIM]);
    await model.release();
  });

  it('refuses a decoder whose cache inputs disagree with num_key_value_heads or head_dim in config.json', async () => {
    for (const textConfig of [{ num_key_value_heads: 4 }, { head_dim: 2 }]) {
      const json = miniConfigJson();
      Object.assign(json.text_config, textConfig);
      const error = await VideoLlavaForConditionalGeneration.fromPretrained(
        new MemorySource(PARTS, { 'config.json': json }),
        { backend: backend() },
      ).catch((caught: unknown) => caught);
      expect((error as VideoLlavaError).code).toBe('INVALID_FILE');
      expect((error as VideoLlavaError).field).toBe('past_key_values.0.key');
      expect((error as VideoLlavaError).actual).toBe(`[batch, ${KV_HEADS}, past, ${HEAD_DIM}]`);
      expect((error as Error).message).toMatch(/text_config\.num_key_value_heads/);
    }
  });

  it('refuses a buffer decoder from an earlier converter (positions before channels), and a cache of the other layout', async () => {
    const buffer = (past: readonly (string | number)[]) => ({
      inputs: [
        { name: 'inputs_embeds', dtype: 'float32' as const, shape: ['batch', 'sequence', 8] },
        { name: 'attention_mask', dtype: 'int64' as const, shape: ['batch', 'total'] },
        { name: 'past_key_values.0.key', dtype: 'float32' as const, shape: past },
        { name: 'past_key_values.0.value', dtype: 'float32' as const, shape: past },
      ],
      outputs: [
        { name: 'logits', dtype: 'float32' as const, shape: ['batch', 'sequence', 'vocab'] },
        { name: 'new_key_values.0.key', dtype: 'float32' as const, shape: ['batch', KV_HEADS, HEAD_DIM, 'sequence'] },
        { name: 'new_key_values.0.value', dtype: 'float32' as const, shape: ['batch', KV_HEADS, HEAD_DIM, 'sequence'] },
      ],
      run: () => {
        throw new Error('not run in this test');
      },
    });
    const open = (past: readonly (string | number)[]) =>
      VideoLlavaForConditionalGeneration.fromPretrained(new MemorySource([...PARTS, 'onnx/decoder_kv_buffer.onnx']), {
        backend: createMockBackend({ models: { ...miniModels(), 'onnx/decoder_kv_buffer.onnx': buffer(past) } }),
        decoderCache: 'buffer',
      });
    const error = await open(['batch', KV_HEADS, 'past', HEAD_DIM]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VideoLlavaError);
    expect((error as VideoLlavaError).field).toBe('past_key_values.0.key');
    expect((error as Error).message).toMatch(/earlier converter.*convert the checkpoint again/);

    const current = await open(['batch', KV_HEADS, HEAD_DIM, 'capacity']);
    const empty = await current.emptyCache(1);
    expect(empty.positionAxis).toBe(3);
    expect(empty.tensors['past_key_values.0.key']!.dims).toEqual([1, KV_HEADS, HEAD_DIM, 0]);
    // A cache in the present layout (positions on axis 2) is refused before the decoder runs.
    const mismatch = await current
      .runDecoder({
        inputsEmbeds: new Tensor('float32', new Float32Array(8), [1, 1, 8]),
        attentionMask: new Tensor('int64', BigInt64Array.of(1n), [1, 1]),
        positionIds: new Tensor('int64', BigInt64Array.of(0n), [1, 1]),
        cache: { ...empty, positionAxis: 2 },
      })
      .catch((caught: unknown) => caught);
    expect((mismatch as VideoLlavaError).code).toBe('SHAPE_MISMATCH');
    expect((mismatch as Error).message).toMatch(
      /positions on axis 2 but .*decoder_kv_buffer\.onnx takes them on axis 3/,
    );
    await current.release();
  });

  it('opens decoder_kv_int8 for the int8 cache: no fallback, an int8 cache, and rows without padding', async () => {
    const VOCAB = miniConfigJson().text_config.vocab_size as number;
    const int8 = (pastType: 'int8' | 'float32', runs: Array<Record<string, unknown>>) => ({
      inputs: [
        { name: 'inputs_embeds', dtype: 'float32' as const, shape: ['batch', 'sequence', 8] },
        { name: 'position_ids', dtype: 'int64' as const, shape: ['batch', 'sequence'] },
        { name: 'seqlens_k', dtype: 'int32' as const, shape: ['batch'] },
        { name: 'total_sequence_length', dtype: 'int32' as const, shape: [] },
        { name: 'past_key_values.0.key', dtype: pastType, shape: ['batch', KV_HEADS, 'capacity', HEAD_DIM] },
        { name: 'past_key_values.0.value', dtype: pastType, shape: ['batch', KV_HEADS, 'capacity', HEAD_DIM] },
        { name: 'kv_scales.0.key', dtype: 'float32' as const, shape: [KV_HEADS, 1, HEAD_DIM] },
        { name: 'kv_scales.0.value', dtype: 'float32' as const, shape: [KV_HEADS, 1, HEAD_DIM] },
      ],
      outputs: [
        { name: 'logits', dtype: 'float32' as const, shape: ['batch', 'sequence', 'vocab'] },
        { name: 'present.0.key', dtype: pastType, shape: ['batch', KV_HEADS, 'capacity', HEAD_DIM] },
        { name: 'present.0.value', dtype: pastType, shape: ['batch', KV_HEADS, 'capacity', HEAD_DIM] },
        { name: 'present_scales.0.key', dtype: 'float32' as const, shape: [KV_HEADS, 1, HEAD_DIM] },
        { name: 'present_scales.0.value', dtype: 'float32' as const, shape: [KV_HEADS, 1, HEAD_DIM] },
      ],
      // Records what each run was fed; returns what a decoder over a cache of the fed capacity returns.
      run: (feeds: Record<string, Tensor>) => {
        runs.push(feeds);
        const [rows, length] = feeds.inputs_embeds!.dims as [number, number];
        const past = feeds['past_key_values.0.key']!;
        const scale = new Tensor('float32', new Float32Array(KV_HEADS * HEAD_DIM).fill(0.5), [KV_HEADS, 1, HEAD_DIM]);
        return {
          logits: new Tensor('float32', new Float32Array(rows * length * VOCAB), [rows, length, VOCAB]),
          'present.0.key': past,
          'present.0.value': feeds['past_key_values.0.value']!,
          'present_scales.0.key': scale,
          'present_scales.0.value': scale,
        };
      },
    });
    const open = (pastType: 'int8' | 'float32', runs: Array<Record<string, unknown>>, files = true) =>
      VideoLlavaForConditionalGeneration.fromPretrained(
        new MemorySource(files ? [...PARTS, 'onnx/decoder_kv_int8.onnx'] : PARTS),
        {
          backend: createMockBackend({
            models: { ...miniModels(), 'onnx/decoder_kv_int8.onnx': int8(pastType, runs) },
          }),
          decoderCache: 'int8',
        },
      );
    const missing = await open('int8', [], false).catch((caught: unknown) => caught);
    expect((missing as VideoLlavaError).code).toBe('FILE_NOT_FOUND');
    const float = await open('float32', []).catch((caught: unknown) => caught);
    expect((float as VideoLlavaError).code).toBe('INVALID_FILE');
    expect((float as Error).message).toMatch(/takes an int8 cache/);

    const runs: Array<Record<string, unknown>> = [];
    const model = await open('int8', runs);
    expect(model.decoderCacheLayout).toBe('int8');
    const empty = await model.emptyCache(1);
    expect(empty.tensors['past_key_values.0.key']).toMatchObject({ dtype: 'int8', dims: [1, KV_HEADS, 0, HEAD_DIM] });
    const embeds = (length: number) => new Tensor('float32', new Float32Array(length * 8), [1, length, 8]);
    const ones = (length: number) => new Tensor('int64', new BigInt64Array(length).fill(1n), [1, length]);
    const first = await model.runDecoder({
      inputsEmbeds: embeds(3),
      attentionMask: ones(3),
      positionIds: new Tensor('int64', BigInt64Array.of(0n, 1n, 2n), [1, 3]),
      cache: empty,
      lastPositionOnly: true,
    });
    // The first run: buffers with room to grow, lengths as GroupQueryAttention counts them, the scales it set kept.
    const fed = runs[0] as Record<string, Tensor>;
    expect(fed.seqlens_k!.data).toEqual(Int32Array.of(2));
    expect(fed.total_sequence_length!.data).toEqual(Int32Array.of(3));
    expect(fed['past_key_values.0.key']!.dims[2]).toBeGreaterThanOrEqual(3);
    expect(first.cache).toMatchObject({ rows: 1, length: 3 });
    expect([...first.cache.scales!['past_key_values.0.key']!.data]).toEqual(Array(KV_HEADS * HEAD_DIM).fill(0.5));
    expect(first.logits).toHaveLength(VOCAB);
    const second = await model.runDecoder({
      inputsEmbeds: embeds(1),
      attentionMask: ones(4),
      positionIds: new Tensor('int64', BigInt64Array.of(3n), [1, 1]),
      cache: first.cache,
      lastPositionOnly: true,
    });
    const step = runs[1] as Record<string, Tensor>;
    expect(step['past_key_values.0.key']).toBe(fed['past_key_values.0.key']);
    expect(step['kv_scales.0.key']).toBe(first.cache.scales!['past_key_values.0.key']);
    expect(second.cache.length).toBe(4);
    const padded = await model
      .runDecoder({
        inputsEmbeds: embeds(1),
        attentionMask: new Tensor('int64', BigInt64Array.of(0n, 1n, 1n, 1n, 1n), [1, 5]),
        positionIds: new Tensor('int64', BigInt64Array.of(3n), [1, 1]),
        cache: second.cache,
      })
      .catch((caught: unknown) => caught);
    expect((padded as VideoLlavaError).code).toBe('UNSUPPORTED');
    await model.release();
  });

  it('counts media tokens from the configs: strategy full keeps the CLS for images; frames keep it either way', async () => {
    const json = miniConfigJson();
    json.vision_feature_select_strategy = 'full';
    const processor = miniProcessorJson();
    delete processor.vision_feature_select_strategy;
    const model = await VideoLlavaForConditionalGeneration.fromPretrained(
      new MemorySource(PARTS, { 'config.json': json, 'processor_config.json': processor }),
      { backend: backend() },
    );
    expect(model.config.derived).toMatchObject({
      tokensPerImage: TOKENS_PER_IMAGE + 1,
      tokensPerFrame: TOKENS_PER_FRAME,
    });
    const ids = (count: number, id: number) =>
      new Tensor('int64', BigInt64Array.from([1, ...Array(count).fill(id), 5], BigInt), [1, count + 2]);
    expect(() =>
      model.checkMediaTokens(ids(TOKENS_PER_IMAGE + 1, IMAGE_ID), { pixelValuesImages: pixels([1, 3, 28, 28], 1) }),
    ).not.toThrow();
    expect(() =>
      model.checkMediaTokens(ids(TOKENS_PER_IMAGE, IMAGE_ID), { pixelValuesImages: pixels([1, 3, 28, 28], 1) }),
    ).toThrow(expect.objectContaining({ code: 'TOKEN_COUNT_MISMATCH' }));
    // Frames: as many as the pixels bring, each with the CLS.
    expect(() =>
      model.checkMediaTokens(ids(3 * TOKENS_PER_FRAME, VIDEO_ID), { pixelValuesVideos: pixels([1, 3, 3, 28, 28], 1) }),
    ).not.toThrow();
    await model.release();
  });

  it('refuses to run once released', async () => {
    const model = await load();
    await model.release();
    const error = await model.generate({ inputIds: [[1, 5]], maxNewTokens: 1 }).catch((caught: unknown) => caught);
    expect((error as VideoLlavaError).code).toBe('SESSION_RELEASED');
  });
});

describe('VideoLlavaForConditionalGeneration.stream (mock backend)', () => {
  it('streams the tokens of generate, then keeps the prefix; a reader that stops early still leaves nothing behind', async () => {
    const mock = backend();
    const model = await load(mock, { device: true });
    const video = pixels([1, FRAMES, 3, 28, 28], 11);
    const expected = await naiveGreedy([videoPrompt], [videoPrompt.map(() => 1)], { videos: video }, 5);
    const stream = model.stream({ inputIds: [videoPrompt], pixelValuesVideos: video, maxNewTokens: 5, ...noEos });
    const ids: number[] = [];
    for await (const delta of stream) if (delta.tokenId !== undefined) ids.push(delta.tokenId);
    expect(ids).toEqual(expected[0]);
    expect((await stream.result).generatedIds).toEqual(expected);
    expect(model.prefixCacheLength).toBe(videoPrompt.length + 4);
    model.clearPrefixCache();
    expect(mock.liveDeviceTensors).toBe(0);
    const early = model.stream({
      inputIds: [videoPrompt],
      pixelValuesVideos: video,
      maxNewTokens: 5,
      ...noEos,
      prefixCache: false,
    });
    for await (const delta of early) if (delta.step === 1) break;
    expect((await early.result).finishReasons).toEqual(['abort']);
    expect(mock.liveDeviceTensors).toBe(0);
    await model.release();
  });
});

import { join } from 'node:path';
import type { Tensor as CoreTensor } from '@video-llava/core';
import { type FixtureCase, tinyFixture } from '@video-llava/test-utils';
import * as ort from 'onnxruntime-node';

/** The four sessions of a converted model folder, for one weight-format suffix. */
export interface ModelSessions {
  embed: ort.InferenceSession;
  image: ort.InferenceSession;
  video: ort.InferenceSession;
  decoder: ort.InferenceSession;
  config: {
    imageTokenIndex: number;
    videoTokenIndex: number;
    layers: number;
    kvHeads: number;
    headDim: number;
    hidden: number;
  };
  release(): Promise<void>;
}

export async function loadSessions(
  directory: string,
  suffix = '',
  config = { imageTokenIndex: 32000, videoTokenIndex: 32001, layers: 2, kvHeads: 4, headDim: 16, hidden: 64 },
  /** Run `decoder_kv_buffer` behind {@link kvBufferAsPresent} (with this many unfilled positions) instead of `decoder_model_merged`. */
  kvBufferUnfilled?: number,
  /** Run `decoder_kv_int8` behind {@link int8CacheAsPresent} instead of `decoder_model_merged`. */
  int8Cache = false,
): Promise<ModelSessions> {
  const options: ort.InferenceSession.SessionOptions = { logSeverityLevel: 3, intraOpNumThreads: 2 };
  const open = (name: string) => ort.InferenceSession.create(join(directory, 'onnx', `${name}${suffix}.onnx`), options);
  const [embed, image, video, rawDecoder] = await Promise.all([
    open('embed_tokens'),
    open('image_encoder'),
    open('video_encoder'),
    open(int8Cache ? 'decoder_kv_int8' : kvBufferUnfilled === undefined ? 'decoder_model_merged' : 'decoder_kv_buffer'),
  ]);
  const decoder = int8Cache
    ? int8CacheAsPresent(rawDecoder)
    : kvBufferUnfilled === undefined
      ? rawDecoder
      : kvBufferAsPresent(rawDecoder, kvBufferUnfilled);
  return {
    embed,
    image,
    video,
    decoder,
    config,
    async release() {
      await Promise.all([embed.release(), image.release(), video.release(), rawDecoder.release()]);
    },
  };
}

/**
 * The `num_logits_to_keep` feed (0 = every position, N = the last N) when the decoder has that input; none for
 * a decoder without it, which always returns every position's logits.
 */
export function numLogitsToKeepFeed(decoder: ort.InferenceSession, count: number): Record<string, ort.Tensor> {
  return decoder.inputNames.includes('num_logits_to_keep')
    ? { num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(BigInt(count)), []) }
    : {};
}

export function toOrt(tensor: CoreTensor): ort.Tensor {
  return new ort.Tensor(tensor.dtype as 'float32', tensor.data as Float32Array, [...tensor.dims]);
}

function stack(tensors: CoreTensor[]): ort.Tensor {
  const size = tensors.reduce((sum, tensor) => sum + tensor.size, 0);
  const data = new Float32Array(size);
  let offset = 0;
  for (const tensor of tensors) {
    data.set(tensor.data as Float32Array, offset);
    offset += tensor.size;
  }
  return new ort.Tensor('float32', data, [
    tensors.reduce((sum, tensor) => sum + tensor.dims[0]!, 0),
    ...tensors[0]!.dims.slice(1),
  ]);
}

/** What running one fixture case through the ONNX files gives. */
export interface CaseRun {
  /** Projector outputs, one per tower call: images first, then videos. */
  projectorOutputs: Float32Array[];
  /** `inputs_embeds` after the image/video features are scattered in (text_hidden_state_0). */
  embeds: Float32Array;
  /** Decoder outputs of the prefill. */
  prefill: ort.InferenceSession.ReturnType;
  /** `[B, V]` logits of the last position. */
  logitsLast: Float32Array;
  batch: number;
  sequence: number;
  vocab: number;
}

export function argmaxRows(logits: Float32Array, rows: number, vocab: number): number[] {
  return Array.from({ length: rows }, (_, row) => {
    let best = 0;
    for (let index = 1; index < vocab; index++)
      if (logits[row * vocab + index]! > logits[row * vocab + best]!) best = index;
    return best;
  });
}

/**
 * Runs the encoders, scatters features into the token embeddings, and runs the decoder's first step.
 * @param numLogitsToKeep the prefill's `num_logits_to_keep` (0: every position's logits, as `logits_all` wants)
 */
export async function runCase(
  sessions: ModelSessions,
  fixtureCase: FixtureCase,
  fetchHiddenStates = false,
  numLogitsToKeep = 0,
): Promise<CaseRun & { state: GenerationState }> {
  const name = `case_${fixtureCase.name}`;
  const inputIds = tinyFixture.npy(name, 'input_ids.npy');
  const mask = tinyFixture.npy(name, 'attention_mask.npy');
  const [batch, sequence] = inputIds.dims as [number, number];
  const projectorOutputs: Float32Array[] = [];
  let imageFeatures: Float32Array | undefined;
  let videoFeatures: Float32Array | undefined;
  if (fixtureCase.images.length > 0) {
    const pixels = stack(fixtureCase.images.map((image) => tinyFixture.npy('pixel_values', `${image}.npy`)));
    const { image_features } = await sessions.image.run({ pixel_values: pixels });
    imageFeatures = image_features!.data as Float32Array;
    projectorOutputs.push(imageFeatures);
  }
  if (fixtureCase.videos > 0) {
    const sample = tinyFixture.npy('pixel_values_videos_sample.npy');
    const pixels = stack(Array.from({ length: fixtureCase.videos }, () => sample));
    const { video_features } = await sessions.video.run({ pixel_values_videos: pixels });
    videoFeatures = video_features!.data as Float32Array;
    projectorOutputs.push(videoFeatures);
  }
  const { inputs_embeds } = await sessions.embed.run({ input_ids: toOrt(inputIds) });
  const embeds = new Float32Array(inputs_embeds!.data as Float32Array);
  const hidden = sessions.config.hidden;
  const ids = inputIds.data as BigInt64Array;
  let imageRow = 0;
  let videoRow = 0;
  for (let position = 0; position < ids.length; position++) {
    const id = Number(ids[position]);
    if (id === sessions.config.imageTokenIndex)
      embeds.set(imageFeatures!.subarray(imageRow * hidden, ++imageRow * hidden), position * hidden);
    else if (id === sessions.config.videoTokenIndex)
      embeds.set(videoFeatures!.subarray(videoRow * hidden, ++videoRow * hidden), position * hidden);
  }
  if (imageFeatures && imageRow * hidden !== imageFeatures.length)
    throw new Error(`${name}: ${imageRow} <image> tokens for ${imageFeatures.length / hidden} feature rows`);
  if (videoFeatures && videoRow * hidden !== videoFeatures.length)
    throw new Error(`${name}: ${videoRow} <video> tokens for ${videoFeatures.length / hidden} feature rows`);
  const maskData = mask.data as BigInt64Array;
  // transformers' generate(): position_ids = cumsum(attention_mask) - 1, 1 where masked.
  const positions = new BigInt64Array(batch * sequence);
  for (let row = 0; row < batch; row++) {
    let count = 0n;
    for (let column = 0; column < sequence; column++) {
      const index = row * sequence + column;
      count += maskData[index]!;
      positions[index] = maskData[index] === 0n ? 1n : count - 1n;
    }
  }
  const state: GenerationState = {
    mask: maskData,
    positions: Array.from({ length: batch }, (_, row) => positions[row * sequence + sequence - 1]!),
    past: {},
    batch,
    length: sequence,
  };
  const feeds: Record<string, ort.Tensor> = {
    inputs_embeds: new ort.Tensor('float32', embeds, [batch, sequence, hidden]),
    attention_mask: toOrt(mask),
    position_ids: new ort.Tensor('int64', positions, [batch, sequence]),
    ...numLogitsToKeepFeed(sessions.decoder, numLogitsToKeep),
  };
  for (let layer = 0; layer < sessions.config.layers; layer++) {
    for (const kind of ['key', 'value'])
      feeds[`past_key_values.${layer}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [
        batch,
        sessions.config.kvHeads,
        0,
        sessions.config.headDim,
      ]);
  }
  const outputNames = sessions.decoder.outputNames.filter(
    (output) => fetchHiddenStates || !output.startsWith('hidden_states.'),
  );
  const prefill = await sessions.decoder.run(feeds, outputNames);
  const logits = prefill.logits!;
  const vocab = logits.dims[2]!;
  const kept = logits.dims[1]!;
  const all = logits.data as Float32Array;
  const logitsLast = new Float32Array(batch * vocab);
  for (let row = 0; row < batch; row++)
    logitsLast.set(all.subarray((row * kept + kept - 1) * vocab, (row * kept + kept) * vocab), row * vocab);
  for (let layer = 0; layer < sessions.config.layers; layer++) {
    for (const kind of ['key', 'value'])
      state.past[`past_key_values.${layer}.${kind}`] = prefill[`present.${layer}.${kind}`]!;
  }
  return { projectorOutputs, embeds, prefill, logitsLast, batch, sequence, vocab, state };
}

/** The KV-cache state of a batch between decoding steps. */
export interface GenerationState {
  mask: BigInt64Array;
  positions: bigint[];
  past: Record<string, ort.Tensor>;
  batch: number;
  length: number;
}

/**
 * Greedy decoding of `steps` tokens with the KV cache, after {@link runCase}'s prefill.
 * @param onStepLogits receives the `[B, V]` logits each token was chosen from (step 0: the prefill's last position)
 */
export async function greedyGenerate(
  sessions: ModelSessions,
  run: CaseRun & { state: GenerationState },
  steps: number,
  onStepLogits?: (step: number, logits: Float32Array) => void,
): Promise<number[][]> {
  const { state, vocab } = run;
  const batch = state.batch;
  onStepLogits?.(0, run.logitsLast);
  let next = argmaxRows(run.logitsLast, batch, vocab);
  const generated: number[][] = Array.from({ length: batch }, () => []);
  let mask = state.mask;
  for (let step = 0; step < steps; step++) {
    next.forEach((token, row) => generated[row]!.push(token));
    if (step === steps - 1) break;
    const { inputs_embeds } = await sessions.embed.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(next, BigInt), [batch, 1]),
    });
    const length = state.length + step + 1;
    const grown = new BigInt64Array(batch * length);
    for (let row = 0; row < batch; row++) {
      grown.set(mask.subarray(row * (length - 1), (row + 1) * (length - 1)), row * length);
      grown[row * length + length - 1] = 1n;
    }
    mask = grown;
    state.positions = state.positions.map((position) => position + 1n);
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: inputs_embeds!,
      attention_mask: new ort.Tensor('int64', mask, [batch, length]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from(state.positions), [batch, 1]),
      ...numLogitsToKeepFeed(sessions.decoder, 1),
      ...state.past,
    };
    const outputNames = sessions.decoder.outputNames.filter((output) => !output.startsWith('hidden_states.'));
    const outputs = await sessions.decoder.run(feeds, outputNames);
    for (const key of Object.keys(state.past)) state.past[key] = outputs[key.replace('past_key_values', 'present')]!;
    onStepLogits?.(step + 1, outputs.logits!.data as Float32Array);
    next = argmaxRows(outputs.logits!.data as Float32Array, batch, vocab);
  }
  return generated;
}

/**
 * `decoder_kv_buffer` (past with unfilled capacity in, `new_key_values.*` out) behind `decoder_model_merged`'s
 * interface, for the tests written against the latter: each past `[B, kvH, P, hd]` is transposed into the buffer
 * decoder's channel-major layout `[B, kvH, hd, P + unfilled]` whose unfilled positions hold large finite values (so
 * a mask that let them through would show in the logits), the mask is widened with zeros over them, and `present.*`
 * is the past with the new positions (returned as `[B, kvH, hd, S]`) appended.
 */
export function kvBufferAsPresent(session: ort.InferenceSession, unfilled: number): ort.InferenceSession {
  const pastNames = session.inputNames.filter((name) => name.startsWith('past_key_values.'));
  const outputNames = ['logits', ...pastNames.map((name) => name.replace('past_key_values.', 'present.'))];
  const run = async (feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> => {
    const widened: Record<string, ort.Tensor> = { ...feeds };
    const mask = feeds.attention_mask!;
    const [batch, total] = mask.dims as [number, number];
    const newLength = feeds.inputs_embeds!.dims[1]!;
    const past = total - newLength;
    const capacity = past + unfilled;
    const maskData = new BigInt64Array(batch * (capacity + newLength));
    for (let row = 0; row < batch; row++) {
      const source = (mask.data as BigInt64Array).subarray(row * total, (row + 1) * total);
      maskData.set(source.subarray(0, past), row * (capacity + newLength));
      maskData.set(source.subarray(past), row * (capacity + newLength) + capacity);
    }
    widened.attention_mask = new ort.Tensor('int64', maskData, [batch, capacity + newLength]);
    for (const name of pastNames) {
      const tensor = feeds[name]!;
      const [rows, heads, , width] = tensor.dims as [number, number, number, number];
      const source = tensor.data as Float32Array;
      const data = new Float32Array(rows * heads * width * capacity).fill(1e4);
      for (let block = 0; block < rows * heads; block++)
        for (let position = 0; position < past; position++)
          for (let lane = 0; lane < width; lane++)
            data[(block * width + lane) * capacity + position] = source[(block * past + position) * width + lane]!;
      widened[name] = new ort.Tensor('float32', data, [rows, heads, width, capacity]);
    }
    const outputs = await session.run(widened);
    const result: Record<string, ort.Tensor> = { logits: outputs.logits! };
    for (const name of pastNames) {
      const before = feeds[name]!;
      const fresh = outputs[name.replace('past_key_values.', 'new_key_values.')]!;
      const [rows, heads, , width] = before.dims as [number, number, number, number];
      const freshData = fresh.data as Float32Array;
      const present = new Float32Array(rows * heads * (past + newLength) * width);
      for (let block = 0; block < rows * heads; block++) {
        present.set(
          (before.data as Float32Array).subarray(block * past * width, (block + 1) * past * width),
          block * (past + newLength) * width,
        );
        for (let position = 0; position < newLength; position++)
          for (let lane = 0; lane < width; lane++)
            present[(block * (past + newLength) + past + position) * width + lane] =
              freshData[(block * width + lane) * newLength + position]!;
      }
      result[name.replace('past_key_values.', 'present.')] = new ort.Tensor('float32', present, [
        rows,
        heads,
        past + newLength,
        width,
      ]);
    }
    return result;
  };
  return {
    inputNames: session.inputNames,
    outputNames,
    run,
    release: () => session.release(),
  } as unknown as ort.InferenceSession;
}

/**
 * `decoder_kv_int8` (GroupQueryAttention over int8 past/present buffers, per-channel scales) behind
 * `decoder_model_merged`'s interface, for one sequence at a time without padding: the first run (an empty past)
 * allocates int8 buffers of `capacity` more positions than it fills, and its `present.*` are those buffers, which
 * later runs get back as their past and pass as both past and present (onnxruntime-node copies a fetched output out
 * after the run, but ONNX Runtime has written the pre-allocated buffer in place by then). The scales the first run
 * computed are kept here and fed to the later runs.
 */
export function int8CacheAsPresent(session: ort.InferenceSession, capacity = 64): ort.InferenceSession {
  const pastNames = session.inputNames.filter((name) => name.startsWith('past_key_values.'));
  const outputNames = ['logits', ...pastNames.map((name) => name.replace('past_key_values.', 'present.'))];
  let scales: Record<string, ort.Tensor> = {};
  const run = async (feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> => {
    const mask = feeds.attention_mask!;
    const [batch, total] = mask.dims as [number, number];
    const newLength = feeds.inputs_embeds!.dims[1]!;
    const past = total - newLength;
    if ((mask.data as BigInt64Array).some((value) => value !== 1n))
      throw new Error('the int8 cache decoder takes no padding');
    const inputs: Record<string, ort.Tensor> = {
      inputs_embeds: feeds.inputs_embeds!,
      position_ids: feeds.position_ids!,
      seqlens_k: new ort.Tensor('int32', new Int32Array(batch).fill(total - 1), [batch]),
      total_sequence_length: new ort.Tensor('int32', Int32Array.of(total), []),
    };
    if (feeds.num_logits_to_keep) inputs.num_logits_to_keep = feeds.num_logits_to_keep;
    const fetches: Record<string, ort.Tensor | null> = { logits: null };
    for (const name of pastNames) {
      let buffer = feeds[name]!;
      if (past === 0) {
        const [, heads, , width] = buffer.dims as [number, number, number, number];
        buffer = new ort.Tensor('int8', new Int8Array(batch * heads * (total + capacity) * width), [
          batch,
          heads,
          total + capacity,
          width,
        ]);
      }
      if (buffer.dims[2]! < total) throw new Error(`${name}: ${buffer.dims[2]} positions of capacity for ${total}`);
      inputs[name] = buffer;
      fetches[name.replace('past_key_values.', 'present.')] = buffer;
      const scaleName = name.replace('past_key_values.', 'kv_scales.');
      const [, heads, , width] = buffer.dims as [number, number, number, number];
      inputs[scaleName] =
        past === 0 ? new ort.Tensor('float32', new Float32Array(heads * width), [heads, 1, width]) : scales[scaleName]!;
      fetches[name.replace('past_key_values.', 'present_scales.')] = null;
    }
    const outputs = await session.run(inputs, fetches);
    if (past === 0) scales = {};
    const result: Record<string, ort.Tensor> = { logits: outputs.logits! };
    for (const name of pastNames) {
      const scaleName = name.replace('past_key_values.', 'kv_scales.');
      if (past === 0) scales[scaleName] = outputs[name.replace('past_key_values.', 'present_scales.')]!;
      result[name.replace('past_key_values.', 'present.')] = inputs[name]!;
    }
    return result;
  };
  return {
    inputNames: session.inputNames,
    outputNames,
    run,
    release: () => session.release(),
  } as unknown as ort.InferenceSession;
}

import { Tensor } from '@video-llava/core';
import { HEAD_DIM, HIDDEN, IMAGE_ID, KV_HEADS, VIDEO_ID, VOCAB, miniModels } from './mock-video-llava.js';

const context = { outputs: [], runIndex: 0, model: 'naive' };

/**
 * Greedy decoding without a cache: every step runs the whole sequence through the scripted sessions, with the
 * features placed by a plain counter and transformers' position ids. The oracle the model's cached path must match.
 */
export async function naiveGreedy(
  rows: number[][],
  mask: number[][],
  media: { images?: Tensor<'float32'>; videos?: Tensor<'float32'> },
  steps: number,
): Promise<number[][]> {
  const models = miniModels();
  const imageFeatures = media.images
    ? ((await models['onnx/image_encoder.onnx']!.run({ pixel_values: media.images }, context)).image_features!
        .data as Float32Array)
    : undefined;
  const videoFeatures = media.videos
    ? ((await models['onnx/video_encoder.onnx']!.run({ pixel_values_videos: media.videos }, context)).video_features!
        .data as Float32Array)
    : undefined;
  const sequences = rows.map((row) => [...row]);
  const masks = mask.map((row) => [...row]);
  for (let step = 0; step < steps; step++) {
    const length = sequences[0]!.length;
    const ids = new Tensor('int64', BigInt64Array.from(sequences.flat(), BigInt), [sequences.length, length]);
    const embeds = (await models['onnx/embed_tokens.onnx']!.run({ input_ids: ids }, context)).inputs_embeds!
      .data as Float32Array;
    let image = 0;
    let video = 0;
    // Only the prompt's placeholders take features (a generated placeholder id stays a token).
    sequences.forEach((sequence, row) =>
      sequence.forEach((id, position) => {
        if (position >= rows[row]!.length) return;
        if (id === IMAGE_ID)
          embeds.set(imageFeatures!.subarray(image * HIDDEN, ++image * HIDDEN), (row * length + position) * HIDDEN);
        if (id === VIDEO_ID)
          embeds.set(videoFeatures!.subarray(video * HIDDEN, ++video * HIDDEN), (row * length + position) * HIDDEN);
      }),
    );
    const positions = masks.flatMap((row) => {
      let sum = 0;
      return row.map((value) => ((sum += value), value === 0 ? 1 : sum - 1));
    });
    const empty = new Tensor('float32', new Float32Array(0), [sequences.length, KV_HEADS, 0, HEAD_DIM]);
    const outputs = await models['onnx/decoder_model_merged.onnx']!.run(
      {
        inputs_embeds: new Tensor('float32', embeds, [sequences.length, length, HIDDEN]),
        attention_mask: new Tensor('int64', BigInt64Array.from(masks.flat(), BigInt), [sequences.length, length]),
        position_ids: new Tensor('int64', BigInt64Array.from(positions, BigInt), [sequences.length, length]),
        'past_key_values.0.key': empty,
        'past_key_values.0.value': empty,
      },
      context,
    );
    const logits = outputs.logits!.data as Float32Array;
    sequences.forEach((sequence, row) => {
      const offset = (row * length + length - 1) * VOCAB;
      let best = 0;
      for (let token = 1; token < VOCAB; token++) if (logits[offset + token]! > logits[offset + best]!) best = token;
      sequence.push(best);
      masks[row]!.push(1);
    });
  }
  return sequences.map((sequence, row) => sequence.slice(rows[row]!.length));
}

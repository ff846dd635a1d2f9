import { type Tensor, VideoLlavaError } from '@video-llava/core';

/** The ids of the placeholders the vision features replace. */
export interface PlaceholderIds {
  /** `image_token_index` (`<image>`). */
  imageTokenId: number;
  /** `video_token_index` (`<video>`). */
  videoTokenId: number;
}

/** How many `<image>` and `<video>` ids a prompt holds. */
export function countPlaceholders(inputIds: ArrayLike<bigint>, ids: PlaceholderIds): { image: number; video: number } {
  let image = 0;
  let video = 0;
  const imageId = BigInt(ids.imageTokenId);
  const videoId = BigInt(ids.videoTokenId);
  for (let index = 0; index < inputIds.length; index++) {
    const id = inputIds[index]!;
    if (id === imageId) image++;
    else if (id === videoId) video++;
  }
  return { image, video };
}

function scatter(
  embeds: Float32Array,
  inputIds: ArrayLike<bigint>,
  tokenId: number,
  features: Tensor<'float32'>,
  width: number,
  kind: 'image' | 'video',
): void {
  if (features.dims[features.dims.length - 1] !== width) {
    throw new VideoLlavaError(
      'SHAPE_MISMATCH',
      `The ${kind} features are [${features.dims.join(', ')}], rows of ${features.dims[features.dims.length - 1]} values, but the text embeddings are ${width} wide (text_config.hidden_size).`,
      {
        field: `${kind}Features`,
        expected: `[..., ${width}]`,
        actual: `[${features.dims.join(', ')}]`,
      },
    );
  }
  const id = BigInt(tokenId);
  let positions = 0;
  for (let index = 0; index < inputIds.length; index++) if (inputIds[index] === id) positions++;
  if (positions * width !== features.size) {
    const rows = features.dims.slice(0, -1).reduce((product, dim) => product * dim, 1);
    throw new VideoLlavaError(
      'TOKEN_COUNT_MISMATCH',
      `The prompt has ${positions} <${kind}> tokens but the ${kind} features [${features.dims.join(', ')}] fill ${rows}; each <${kind}> token takes one feature row.`,
      { field: 'inputIds', expected: `${rows} <${kind}> tokens`, actual: positions },
    );
  }
  const data = features.data;
  let next = 0;
  // masked_scatter order: row-major over (batch, sequence), features consumed in their own row-major order.
  for (let index = 0; index < inputIds.length; index++) {
    if (inputIds[index] !== id) continue;
    embeds.set(data.subarray(next, next + width), index * width);
    next += width;
  }
}

/**
 * Writes the vision features into the embeddings at the placeholder positions, in place, exactly like the
 * reference's `inputs_embeds.masked_scatter(input_ids == image_token_id, image_features)` followed by the same for
 * videos: positions are taken row-major over batch then sequence, and the features in their order (image after
 * image, video after video, each video's frames in order).
 *
 * @param embeds float32 `[batch, sequence, width]` from `embed_tokens`
 * @param inputIds int64 `[batch, sequence]`
 * @throws VideoLlavaError `TOKEN_COUNT_MISMATCH` when the placeholders and the feature rows differ in number
 */
export function scatterMediaFeatures(
  embeds: Tensor<'float32'>,
  inputIds: Tensor<'int64'>,
  ids: PlaceholderIds,
  features: { imageFeatures?: Tensor<'float32'> | undefined; videoFeatures?: Tensor<'float32'> | undefined },
): Tensor<'float32'> {
  const width = embeds.dims[embeds.dims.length - 1]!;
  if (features.imageFeatures)
    scatter(embeds.data, inputIds.data, ids.imageTokenId, features.imageFeatures, width, 'image');
  if (features.videoFeatures)
    scatter(embeds.data, inputIds.data, ids.videoTokenId, features.videoFeatures, width, 'video');
  return embeds;
}

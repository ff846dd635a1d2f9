import * as ort from 'onnxruntime-node';

/**
 * The feeds of one decoding step of a buffer decoder (`decoder_kv_buffer*.onnx`): one new position after `context`
 * cached ones, in cache buffers of `capacity` positions (the rest masked). The values are fixed patterns: they do not
 * change the work of a step. Every cache input gets memory of its own, as in the model.
 */
export function decoderStepFeeds(
  session: ort.InferenceSession,
  context: number,
  capacity = context,
): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  let pattern: Float32Array | undefined;
  for (const input of session.inputMetadata) {
    if (!input.isTensor) continue;
    const { name, shape } = input;
    if (name === 'inputs_embeds') {
      const width = shape[2] as number;
      feeds[name] = new ort.Tensor(
        'float32',
        Float32Array.from({ length: width }, (_, i) => Math.sin(i) * 0.02),
        [1, 1, width],
      );
    } else if (name === 'attention_mask') {
      const mask = new BigInt64Array(capacity + 1);
      mask.fill(1n, 0, context);
      mask[capacity] = 1n;
      feeds[name] = new ort.Tensor('int64', mask, [1, capacity + 1]);
    } else if (name === 'position_ids')
      feeds[name] = new ort.Tensor('int64', BigInt64Array.of(BigInt(context)), [1, 1]);
    else if (name === 'num_logits_to_keep') feeds[name] = new ort.Tensor('int64', BigInt64Array.of(1n), []);
    else if (name.startsWith('past_key_values')) {
      const [heads, dim] = [shape[1] as number, shape[2] as number];
      pattern ??= Float32Array.from({ length: heads * dim * capacity }, (_, i) => Math.cos(i) * 0.1);
      feeds[name] = new ort.Tensor('float32', pattern.slice(), [1, heads, dim, capacity]);
    } else throw new Error(`unexpected decoder input ${name}`);
  }
  return feeds;
}

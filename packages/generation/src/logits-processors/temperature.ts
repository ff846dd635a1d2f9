import { VideoLlavaError, describeValue } from '@video-llava/core';
import type { LogitsProcessor } from './logits-processor.js';

/** transformers' `TemperatureLogitsWarper`: scores divided by the temperature, in float32. */
export class TemperatureLogitsWarper implements LogitsProcessor {
  readonly name = 'temperature';
  private readonly temperature: number;

  /** @param temperature strictly positive; below 1 sharpens, above 1 flattens */
  constructor(temperature: number) {
    if (!(temperature > 0) || !Number.isFinite(temperature)) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `temperature must be a finite number above 0 when sampling, found ${describeValue(temperature)}.`,
        {
          field: 'temperature',
          expected: 'a finite number > 0 (or doSample: false for greedy search)',
          actual: temperature,
        },
      );
    }
    this.temperature = Math.fround(temperature);
  }

  process(_inputIds: readonly Int32Array[], scores: Float32Array): void {
    for (let index = 0; index < scores.length; index++) scores[index] = scores[index]! / this.temperature;
  }
}

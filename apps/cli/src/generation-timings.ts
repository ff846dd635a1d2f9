import type { ProgressCallback } from '@video-llava/core';

/**
 * Where the time of one answer went, in milliseconds, measured from the library's progress events (`generate
 * --json` prints it as `timings`).
 */
export interface GenerationTimings {
  /** Loading the model (configs, tokenizer, the ONNX parts opened up front); 0 for a model already loaded. */
  load: number;
  /**
   * From the request to the first encoder run: decoding the video and image files, sampling and preprocessing
   * their frames, formatting and tokenizing the prompt.
   */
  mediaDecode: number;
  /** The vision encoders (0 without media, or when the cached prefix held them). */
  encode: number;
  /** The token embedding and the decoder's run over the prompt (the part of it the cached prefix did not hold). */
  prefill: number;
  /** Mean time of one decoder step after the first token; null with fewer than two tokens. */
  decodePerToken: number | null;
  /** From the end of the prefill to the last token. */
  decode: number;
}

const round = (milliseconds: number): number => Math.round(milliseconds * 10) / 10;

/**
 * Records one answer's {@link GenerationTimings}: pass `onProgress` into the request, call `finish` when it is done.
 * @param load the time the model took to load (ms)
 * @param now the clock
 * @default now performance.now
 */
export function recordGenerationTimings(
  load: number,
  now: () => number = () => performance.now(),
): { onProgress: ProgressCallback; finish(): GenerationTimings } {
  const start = now();
  let firstEncode: number | undefined;
  let lastEncode: number | undefined;
  let prefillStart: number | undefined;
  let prefillEnd: number | undefined;
  const decodes: number[] = [];
  return {
    onProgress(event) {
      const time = now();
      if (event.stage === 'encode') {
        firstEncode ??= time;
        lastEncode = time;
      } else if (event.stage === 'prefill') {
        if (event.done === 0) prefillStart ??= time;
        else if (event.total !== undefined && event.done >= event.total) prefillEnd ??= time;
      } else if (event.stage === 'decode') decodes.push(time);
    },
    finish() {
      const end = now();
      // The library reports the prefill as begun before it runs the encoders (they are the prefill's first step):
      // the encoders' time is taken out of it.
      const prefillBegan = prefillStart ?? end;
      const mediaDone = Math.min(firstEncode ?? prefillBegan, prefillBegan);
      const decoderBegan = Math.max(lastEncode ?? prefillBegan, prefillBegan);
      const prefillDone = prefillEnd ?? decoderBegan;
      const lastDecode = decodes[decodes.length - 1] ?? prefillDone;
      return {
        load: round(load),
        mediaDecode: round(mediaDone - start),
        encode: round(firstEncode === undefined ? 0 : lastEncode! - firstEncode),
        prefill: round(prefillDone - decoderBegan),
        decodePerToken: decodes.length >= 2 ? round((lastDecode - decodes[0]!) / (decodes.length - 1)) : null,
        decode: round(lastDecode - prefillDone),
      };
    },
  };
}

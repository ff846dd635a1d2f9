import type { ProgressCallback } from '@video-llava/core';
import type { ChatMessage, VideoLlava, VideoLlavaAnswer, VideoLlavaRequest } from 'video-llava';
import { type GenerationTimings, recordGenerationTimings } from './generation-timings.js';

/** The conversation format around a question: `USER: <image>\n<video>\n{question} ASSISTANT:` (via the processor). */
export function questionMessage(question: string, images: number, videos: number): ChatMessage {
  return {
    role: 'user',
    content: [
      ...Array.from({ length: images }, () => ({ type: 'image' as const })),
      ...Array.from({ length: videos }, () => ({ type: 'video' as const })),
      { type: 'text' as const, text: question },
    ],
  };
}

/** One answer with what it cost. */
export interface TimedAnswer {
  answer: VideoLlavaAnswer;
  timings: GenerationTimings;
  /** Prompt positions the cached prefix held (not run again). */
  reusedPrefixTokens: number;
}

/**
 * Streams one answer: each text delta to `write`, progress to `onProgress`, and measures it.
 * @param loadMilliseconds reported as `timings.load`
 */
export async function streamAnswer(
  videoLlava: VideoLlava,
  request: VideoLlavaRequest,
  write: (text: string) => void,
  onProgress: ProgressCallback | undefined,
  loadMilliseconds: number,
): Promise<TimedAnswer> {
  const timings = recordGenerationTimings(loadMilliseconds);
  const reusedBefore = videoLlava.model.statistics.reusedPrefixTokens;
  const stream = videoLlava.stream({
    ...request,
    onProgress: (event) => {
      timings.onProgress(event);
      onProgress?.(event);
    },
  });
  for await (const delta of stream) write(delta.text);
  const answer = await stream.result;
  return {
    answer,
    timings: timings.finish(),
    reusedPrefixTokens: videoLlava.model.statistics.reusedPrefixTokens - reusedBefore,
  };
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type VideoProcessorConfig, parseProcessorConfig } from '@video-llava/config';
import { tinyFixture } from '@video-llava/test-utils';

/**
 * The tiny fixture's video processor settings, read from its processor_config.json like a user would.
 *
 * @param fields raw `video_processor` fields to replace first (snake_case, as in the file)
 */
export function fixtureVideoProcessorConfig(fields: Record<string, unknown> = {}): VideoProcessorConfig {
  const json = JSON.parse(readFileSync(join(tinyFixture.model, 'processor_config.json'), 'utf8')) as {
    video_processor: Record<string, unknown>;
  };
  json.video_processor = { ...json.video_processor, ...fields };
  return parseProcessorConfig({ processorConfig: json }).videoProcessor;
}

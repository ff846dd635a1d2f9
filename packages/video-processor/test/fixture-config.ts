import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type VideoProcessorConfig, parseProcessorConfig } from '@video-llava/config';
import { tinyFixture } from '@video-llava/test-utils';

/** The tiny fixture's video processor settings, read from its processor_config.json like a user would. */
export function fixtureVideoProcessorConfig(): VideoProcessorConfig {
  const json: unknown = JSON.parse(readFileSync(join(tinyFixture.model, 'processor_config.json'), 'utf8'));
  return parseProcessorConfig({ processorConfig: json }).videoProcessor;
}

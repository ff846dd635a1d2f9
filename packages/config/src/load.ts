import { VideoLlavaError } from '@video-llava/core';
import { deriveValues } from './derived.js';
import { parseJsonText } from './field-reader.js';
import { parseGenerationConfig } from './generation-config.js';
import { parseModelConfig } from './model-config.js';
import { parseProcessorConfig } from './processor-config.js';
import type { ModelSource, ReadOptions } from './source.js';
import type { DerivedValues, GenerationConfig, ProcessorConfig, VideoLlavaConfig } from './types.js';

/** Everything a checkpoint's JSON files say, validated. */
export interface PretrainedConfig {
  /** `config.json`. */
  model: VideoLlavaConfig;
  /** `generation_config.json` (transformers defaults when absent). */
  generation: GenerationConfig;
  /** Processor settings (v5 or v4 layout). */
  processor: ProcessorConfig;
  /** Token counts and widths derived with the reference's formulas. */
  derived: DerivedValues;
  /** Where it was loaded from. */
  source: string;
}

/**
 * Reads and parses a JSON file from a source. With `optional`, a file the source does not have is `undefined`
 * (one request, no separate existence check); any other failure still throws.
 *
 * @throws VideoLlavaError `FILE_NOT_FOUND` (unless optional), `INVALID_JSON` naming the file, `DOWNLOAD_FAILED`
 */
export async function readJsonFile(
  source: ModelSource,
  path: string,
  options: ReadOptions & { optional?: boolean } = {},
): Promise<Record<string, unknown> | undefined> {
  const { optional, ...readOptions } = options;
  let text: string;
  try {
    text = await source.readText(path, readOptions);
  } catch (error) {
    if (optional && VideoLlavaError.isInstance(error) && error.code === 'FILE_NOT_FOUND') return undefined;
    throw error;
  }
  return parseJsonText(text, joinDescription(source, path));
}

function joinDescription(source: ModelSource, path: string): string {
  return `${source.description.replace(/\/$/, '')}/${path}`;
}

function relabel<T>(file: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (VideoLlavaError.isInstance(error) && error.file !== undefined && !error.file.includes('/')) {
      const full = file.replace(/[^/]*$/, error.file);
      throw new VideoLlavaError(error.code, error.message.replace(error.file, full), {
        file: full,
        field: error.field,
        expected: error.expected,
        actual: error.actual,
        cause: error.cause,
      });
    }
    throw error;
  }
}

/**
 * Loads and validates `config.json`, `generation_config.json` and the processor configs of a checkpoint.
 *
 * @param source where the checkpoint is: {@link HttpSource}, {@link HubSource}, or from `@video-llava/config/node`
 *   `DirectorySource`, `CachedHubSource` and `resolveSource`
 * @param options progress callback (download bytes) and abort signal
 * @throws VideoLlavaError naming the file and field of anything missing or malformed: `FILE_NOT_FOUND`,
 *   `INVALID_JSON`, `INVALID_CONFIG`, `UNSUPPORTED`, `DOWNLOAD_FAILED`, `ABORTED`
 */
export async function loadPretrainedConfig(source: ModelSource, options: ReadOptions = {}): Promise<PretrainedConfig> {
  const modelJson = await readJsonFile(source, 'config.json', options);
  const model = relabel(joinDescription(source, 'config.json'), () => parseModelConfig(modelJson, 'config.json'));
  const generationJson = (await readJsonFile(source, 'generation_config.json', { ...options, optional: true })) ?? {};
  const generation = relabel(joinDescription(source, 'generation_config.json'), () =>
    parseGenerationConfig(generationJson, 'generation_config.json', model),
  );
  const [processorConfig, preprocessorConfig, videoPreprocessorConfig] = await Promise.all([
    readJsonFile(source, 'processor_config.json', { ...options, optional: true }),
    readJsonFile(source, 'preprocessor_config.json', { ...options, optional: true }),
    readJsonFile(source, 'video_preprocessor_config.json', { ...options, optional: true }),
  ]);
  const processor = relabel(joinDescription(source, 'processor_config.json'), () =>
    parseProcessorConfig({ processorConfig, preprocessorConfig, videoPreprocessorConfig }, model),
  );
  // Name the files the processors' settings came from by their full location, as errors do.
  for (const settings of [processor.imageProcessor, processor.videoProcessor]) {
    if (settings.origin) settings.origin = { ...settings.origin, file: joinDescription(source, settings.origin.file) };
  }
  const derived = relabel(
    joinDescription(source, processor.layout === 'v5' ? 'processor_config.json' : 'preprocessor_config.json'),
    () => deriveValues(model, processor),
  );
  return { model, generation, processor, derived, source: source.description };
}

import { VideoLlavaError, describeValue } from '@video-llava/core';
import type { BackendCapabilities, ExecutionProvider, GraphOptimizationLevel, SessionOptions } from './backend.js';
import type { OutputLocation } from './inference-session.js';

const LEVELS: readonly GraphOptimizationLevel[] = ['disabled', 'basic', 'extended', 'all'];

/** The name of an execution provider given as a name or as `{ name, ...options }`. */
export function executionProviderName(provider: ExecutionProvider): string {
  return typeof provider === 'string' ? provider : provider.name;
}

function invalid(field: string, message: string, expected: unknown, actual: unknown): never {
  throw new VideoLlavaError('INVALID_ARGUMENT', message, { field, expected, actual });
}

/**
 * Checks the options every backend shares before anything is loaded: known execution provider names,
 * a positive thread count, a known optimization level, output locations of `'cpu'` or `'device'`.
 *
 * @returns the execution providers to try, in order
 * @throws VideoLlavaError `INVALID_ARGUMENT` naming the option (`options.executionProviders[1]`, ...)
 */
export function checkSessionOptions(
  options: SessionOptions,
  capabilities: BackendCapabilities,
): readonly ExecutionProvider[] {
  const providers = options.executionProviders ?? capabilities.defaultExecutionProviders;
  if (!Array.isArray(providers) || providers.length === 0) {
    invalid(
      'options.executionProviders',
      `options.executionProviders must list at least one execution provider, found ${describeValue(providers)}.`,
      capabilities.executionProviders,
      providers,
    );
  }
  for (const [index, provider] of providers.entries()) {
    const name = typeof provider === 'string' ? provider : (provider as { name?: unknown } | null)?.name;
    if (typeof name !== 'string' || !capabilities.executionProviders.includes(name)) {
      invalid(
        `options.executionProviders[${index}]`,
        `Unknown execution provider ${describeValue(name ?? provider)} in options.executionProviders[${index}]; this backend knows ${capabilities.executionProviders.join(', ')}.`,
        capabilities.executionProviders,
        name ?? provider,
      );
    }
  }
  if (options.threads !== undefined && (!Number.isSafeInteger(options.threads) || options.threads < 1)) {
    invalid(
      'options.threads',
      `options.threads must be a positive integer, found ${describeValue(options.threads)}.`,
      'a positive integer',
      options.threads,
    );
  }
  if (options.graphOptimizationLevel !== undefined && !LEVELS.includes(options.graphOptimizationLevel)) {
    invalid(
      'options.graphOptimizationLevel',
      `options.graphOptimizationLevel must be one of ${LEVELS.join(', ')}, found ${describeValue(options.graphOptimizationLevel)}.`,
      LEVELS,
      options.graphOptimizationLevel,
    );
  }
  const location = options.outputLocation;
  if (location !== undefined) {
    const entries: Array<[string, unknown]> =
      typeof location === 'string'
        ? [['options.outputLocation', location]]
        : Object.entries(location).map(([name, value]) => [`options.outputLocation.${name}`, value]);
    for (const [field, value] of entries) {
      if (value !== 'cpu' && value !== 'device')
        invalid(field, `${field} must be 'cpu' or 'device', found ${describeValue(value)}.`, ['cpu', 'device'], value);
    }
  }
  if (options.inPlaceOutputs !== undefined) {
    if (typeof options.inPlaceOutputs !== 'boolean')
      invalid(
        'options.inPlaceOutputs',
        `options.inPlaceOutputs must be true or false, found ${describeValue(options.inPlaceOutputs)}.`,
        'a boolean',
        options.inPlaceOutputs,
      );
    if (options.inPlaceOutputs && capabilities.inPlaceOutputs !== true)
      throw new VideoLlavaError(
        'UNSUPPORTED',
        "options.inPlaceOutputs: this backend cannot write outputs into the caller's tensors (capabilities.inPlaceOutputs is false); leave it out, and RunOptions.outputBuffers are filled by a copy after each run.",
        { field: 'options.inPlaceOutputs', expected: false, actual: true },
      );
  }
  return providers;
}

/**
 * Where each output stays, from {@link SessionOptions.outputLocation}, once the model's outputs are known.
 * @throws VideoLlavaError `INVALID_ARGUMENT` when the option names an output the model does not have
 */
export function resolveOutputLocations(
  option: SessionOptions['outputLocation'],
  outputNames: readonly string[],
  model: string,
): Record<string, OutputLocation> {
  const locations: Record<string, OutputLocation> = {};
  for (const name of outputNames) locations[name] = typeof option === 'string' ? option : 'cpu';
  if (typeof option === 'object' && option !== null) {
    for (const [name, value] of Object.entries(option)) {
      if (!outputNames.includes(name)) {
        invalid(
          `options.outputLocation.${name}`,
          `options.outputLocation names ${JSON.stringify(name)}, which is not an output of ${model}; its outputs are ${outputNames.join(', ')}.`,
          outputNames,
          name,
        );
      }
      locations[name] = value;
    }
  }
  return locations;
}

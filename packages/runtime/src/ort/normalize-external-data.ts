import { VideoLlavaError, describeValue } from '@video-llava/core';
import type { ExternalDataFile, SessionOptions } from '../backend.js';

/**
 * {@link SessionOptions.externalData} as `{ path, data? }` entries (a name alone is `{ path: name }`).
 * @throws VideoLlavaError `INVALID_ARGUMENT` naming the entry (`options.externalData[1]`) that has no file name
 */
export function normalizeExternalData(entries: SessionOptions['externalData']): ExternalDataFile[] {
  return (entries ?? []).map((entry, index) => {
    const file = typeof entry === 'string' ? { path: entry } : entry;
    if (typeof file?.path !== 'string' || file.path.length === 0) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `options.externalData[${index}] must be a file name or { path, data }, found ${describeValue(entry)}.`,
        {
          field: `options.externalData[${index}]`,
          expected: 'a file name or { path, data }',
          actual: describeValue(entry),
        },
      );
    }
    return file;
  });
}

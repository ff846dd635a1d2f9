import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sourceOptionsFromFlags } from './model-source-arguments.js';
import { createTestIo } from './test-io.js';

describe('sourceOptionsFromFlags', () => {
  it('resolves --cache-dir against the working directory and passes --offline', () => {
    const io = createTestIo('/work');
    io.env = { HF_TOKEN: 'token' };
    expect(sourceOptionsFromFlags({ 'cache-dir': 'cache', offline: true }, io)).toEqual({
      cwd: '/work',
      env: { HF_TOKEN: 'token' },
      hub: { cacheDirectory: join('/work', 'cache'), offline: true },
    });
  });

  it('leaves out the hub options not given, so HF_HUB_CACHE and HF_HUB_OFFLINE still apply', () => {
    expect(sourceOptionsFromFlags({ offline: false }, createTestIo('/work')).hub).toEqual({});
  });
});

import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { createTestIo } from './test-io.js';

describe('video-llava bin', () => {
  it('lists its commands and exits 2 without one', async () => {
    const io = createTestIo();
    expect(await runCli([], io)).toBe(2);
    expect(io.err()).toContain('info');
  });

  it('refuses an unknown command', async () => {
    const io = createTestIo();
    expect(await runCli(['frobnicate'], io)).toBe(2);
    expect(io.err()).toContain('unknown command "frobnicate"');
  });
});

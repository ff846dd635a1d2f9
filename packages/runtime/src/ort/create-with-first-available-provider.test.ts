import { describe, expect, it } from 'vitest';
import { expectRejection } from '../testing/expect-rejection.js';
import { createWithFirstAvailableProvider } from './create-with-first-available-provider.js';

const knownProviders = ['webgpu', 'wasm'];

describe('createWithFirstAvailableProvider', () => {
  it('skips providers that are unavailable and loads with the first one that is', async () => {
    const created: string[] = [];
    const result = await createWithFirstAvailableProvider(['webgpu', { name: 'wasm' }], {
      unavailableReason: async (_, name) => (name === 'webgpu' ? 'no adapter' : undefined),
      create: async (_, name) => {
        created.push(name);
        return `session on ${name}`;
      },
      knownProviders,
      where: 'here',
    });
    expect(result).toEqual({ session: 'session on wasm', provider: { name: 'wasm' } });
    expect(created).toEqual(['wasm']);
  });

  it('throws what loading throws, without trying the next provider', async () => {
    const failure = new Error('bad model');
    const created: string[] = [];
    const attempt = createWithFirstAvailableProvider(['webgpu', 'wasm'], {
      unavailableReason: async () => undefined,
      create: async (_, name) => {
        created.push(name);
        throw failure;
      },
      knownProviders,
      where: 'here',
    });
    await expect(attempt).rejects.toBe(failure);
    expect(created).toEqual(['webgpu']);
  });

  it('UNSUPPORTED when none is available, with each reason', async () => {
    const error = await expectRejection(
      createWithFirstAvailableProvider(['webgpu', 'wasm'], {
        unavailableReason: async (_, name) => `no ${name}`,
        create: async () => 'never',
        knownProviders,
        where: 'on this machine',
      }),
    );
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toBe(
      'None of the execution providers asked for is available on this machine: webgpu: no webgpu; wasm: no wasm.',
    );
    expect([error.field, error.expected, error.actual]).toEqual([
      'options.executionProviders',
      knownProviders,
      ['webgpu', 'wasm'],
    ]);
  });
});

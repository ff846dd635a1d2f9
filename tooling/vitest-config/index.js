import { defineConfig, mergeConfig } from 'vitest/config';

/**
 * Shared vitest settings. Workspace packages resolve to their TypeScript sources through the
 * `@video-llava/source` export condition, so a package's tests run without building its dependencies.
 *
 * @param {import('vitest/config').UserConfig} [overrides]
 */
export function defineTestConfig(overrides = {}) {
  return mergeConfig(
    defineConfig({
      resolve: { conditions: ['@video-llava/source'] },
      ssr: { resolve: { conditions: ['@video-llava/source'] } },
      test: {
        include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
        testTimeout: 60_000,
        hookTimeout: 120_000,
        pool: 'forks',
        reporters: process.env.CI ? ['default'] : ['default'],
      },
    }),
    overrides,
  );
}

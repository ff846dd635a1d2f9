import { defineConfig } from 'tsup';

/**
 * The build every package shares: ESM only, declaration files, no bundling of dependencies,
 * one output per entry named like its source (`src/node.ts` -> `dist/node.js`).
 *
 * @param {Record<string, string> | string[]} entry tsup entries, e.g. `['src/index.ts', 'src/node.ts']`
 * @param {import('tsup').Options} [overrides] anything a package needs on top (a bin banner, say)
 */
export function defineLibraryConfig(entry, overrides = {}) {
  return defineConfig({
    entry,
    format: ['esm'],
    target: 'es2022',
    platform: 'neutral',
    dts: true,
    // Keep `node:` specifiers as written (tsup strips them by default); they stay external to the bundle.
    removeNodeProtocol: false,
    external: [/^node:/],
    sourcemap: true,
    clean: true,
    splitting: true,
    treeshake: true,
    outDir: 'dist',
    ...overrides,
  });
}

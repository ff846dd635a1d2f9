import { defaultClientConditions, defineConfig } from 'vite';

/** Cross-origin isolation: onnxruntime-web runs WebAssembly threads only in an isolated page. */
export const CROSS_ORIGIN_ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  // Relative asset URLs: the build works from any folder of a static server.
  base: './',
  // Workspace packages from their TypeScript sources (the `@video-llava/source` condition), so the app never bundles a stale dist.
  resolve: { conditions: ['@video-llava/source', ...defaultClientConditions] },
  // onnxruntime-web finds its .wasm beside its module (`new URL(..., import.meta.url)`): keep it out of the dev pre-bundle.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: { target: 'es2022', chunkSizeWarningLimit: 2048 },
  server: { headers: CROSS_ORIGIN_ISOLATION },
  preview: { headers: CROSS_ORIGIN_ISOLATION },
});

import { build } from 'esbuild';

/** How {@link bundleForBrowser} bundles. */
export interface BundleForBrowserOptions {
  /** Extra export conditions after `@video-llava/source` (e.g. `browser`). */
  conditions?: readonly string[];
  /** Imports left as they are, for the page to resolve (e.g. through an import map). */
  external?: readonly string[];
}

/**
 * Bundles a test page's entry with esbuild into one ES module (ES2022, browser platform), workspace packages from
 * their TypeScript sources through the `@video-llava/source` condition, as an application's bundler would.
 *
 * @param entry absolute path of the entry file
 * @returns the module's JavaScript, to serve as `text/javascript`
 */
export async function bundleForBrowser(entry: string, options: BundleForBrowserOptions = {}): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@video-llava/source', ...(options.conditions ?? [])],
    ...(options.external ? { external: [...options.external] } : {}),
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/**
 * `@video-llava/test-utils/chromium`: the Node-only harness of the browser tests. It launches Debian's headless
 * Chromium through playwright-core with the standard flags, bundles test pages with esbuild, and serves pages,
 * bundles and files from a local static server (MIME types, optional cross-origin isolation, byte ranges).
 *
 * @packageDocumentation
 */
export { bundleForBrowser } from './bundle.js';
export type { BundleForBrowserOptions } from './bundle.js';
export { chromiumPath, launchChromium, launchPersistentChromium } from './launch.js';
export { transcodeToLosslessH264 } from './lossless-h264.js';
export type { LaunchChromiumOptions } from './launch.js';
export { startStaticServer } from './server.js';
export type { Resolver, Served, StaticServer, StaticServerOptions } from './server.js';

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForBrowser, launchChromium, startStaticServer } from '@video-llava/test-utils/chromium';
import type { Browser, Page } from 'playwright-core';
import type { VideoLlavaTestPage } from './page.js';

/** The page bundled as an application would bundle it: 'video-llava/web' and onnxruntime-web included. */
function bundlePage(): Promise<string> {
  return bundleForBrowser(join(dirname(fileURLToPath(import.meta.url)), 'page.ts'));
}

/** onnxruntime-web's dist folder: its bundle, inlined into the page, fetches its .wasm beside the page's script. */
function onnxruntimeWebFolder(): string {
  const runtimeWeb = createRequire(import.meta.url).resolve('@video-llava/runtime-web/package.json');
  return dirname(createRequire(runtimeWeb).resolve('onnxruntime-web'));
}

/** A tab running test/browser/page.ts. */
export interface TestTab {
  page: Page;
  /** Calls a function of the page's `__videoLlavaPage` with one JSON argument list. */
  call<K extends keyof VideoLlavaTestPage>(
    name: K,
    ...args: Parameters<VideoLlavaTestPage[K]>
  ): Promise<Awaited<ReturnType<VideoLlavaTestPage[K]>>>;
  /** Console errors and uncaught errors of the page. */
  consoleErrors: string[];
  /** The URLs of the workers the page started. */
  workers: string[];
}

/** Chromium with a tab on the page (not cross-origin isolated), served with folders of files by a local server. */
export interface ChromiumPage extends TestTab {
  /** `http://127.0.0.1:<port>/` */
  origin: string;
  /** Requests per path, for checking what was downloaded. */
  requests: Map<string, number>;
  /**
   * Opens the page in another tab, cross-origin isolated (`/isolated`: COOP and COEP), where onnxruntime-web
   * can run WebAssembly threads.
   */
  openIsolatedTab(): Promise<TestTab>;
  close(): Promise<void>;
}

async function openTab(browser: Browser, url: string): Promise<TestTab> {
  const page = await browser.newPage();
  const consoleErrors: string[] = [];
  const workers: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(String(error)));
  page.on('worker', (worker) => workers.push(worker.url()));
  await page.goto(url, { timeout: 30_000 });
  await page.waitForFunction(() => '__videoLlavaPage' in globalThis, undefined, { timeout: 30_000 });
  type Global = { __videoLlavaPage: Record<string, (...args: unknown[]) => unknown> };
  return {
    page,
    consoleErrors,
    workers,
    call: ((name: string, ...args: unknown[]) =>
      page.evaluate(([method, list]) => (globalThis as unknown as Global).__videoLlavaPage[method]!(...list), [
        name,
        args,
      ] as const)) as TestTab['call'],
  };
}

/**
 * Serves the bundled page, onnxruntime-web's WebAssembly files and each of `folders` under `/<name>/`, launches
 * Chromium and opens the page. `http://127.0.0.1` is a secure context (WebCodecs, the Cache API, WebGPU).
 */
export async function openChromiumPage(folders: Readonly<Record<string, string>>): Promise<ChromiumPage> {
  const script = await bundlePage();
  const ortFolder = onnxruntimeWebFolder();
  const html =
    '<!doctype html><meta charset="utf-8"><title>video-llava/web</title><script type="module" src="/page.js"></script>';
  const page = { body: html, type: 'text/html; charset=utf-8' };
  const server = await startStaticServer({
    routes: { '/': page, '/isolated': page, '/page.js': script },
    folders: Object.fromEntries(Object.entries(folders).map(([name, folder]) => [`/${name}/`, folder])),
    resolve: (path) =>
      /^\/ort-wasm[\w.-]*\.(wasm|mjs)$/.test(path) ? { file: join(ortFolder, path.slice(1)) } : undefined,
    // Only /isolated is a cross-origin isolated document; everything it loads (workers included) says so too.
    crossOriginIsolated: (path) => path !== '/',
  });
  const origin = server.origin;
  let browser: Browser | undefined;
  try {
    browser = await launchChromium({ webgpu: true, timeout: 30_000 });
    const opened = browser;
    return {
      ...(await openTab(opened, origin)),
      origin,
      requests: server.requests,
      openIsolatedTab: () => openTab(opened, new URL('isolated', origin).href),
      async close() {
        await opened.close();
        await server.close();
      },
    };
  } catch (error) {
    await browser?.close().catch(() => undefined);
    await server.close();
    throw error;
  }
}

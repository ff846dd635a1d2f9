import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForBrowser, launchChromium, startStaticServer } from '@video-llava/test-utils/chromium';
import type { Browser, Page } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));

/** A page in headless chromium with the package's browser entry loaded, served from 127.0.0.1. */
export interface BrowserPage {
  page: Page;
  /** The server's base URL, e.g. `http://127.0.0.1:40123`. */
  origin: string;
  close(): Promise<void>;
}

/**
 * Bundles test/browser-entry.ts with esbuild (workspace packages from their sources), serves it with the given
 * files, opens it in chromium and waits until `globalThis.imageProcessor` is there.
 *
 * @param files URL path (e.g. `/images/a.png`) to bytes
 */
export async function openBrowserPage(files: Map<string, Uint8Array>): Promise<BrowserPage> {
  const script = await bundleForBrowser(join(here, 'browser-entry.ts'), { conditions: ['browser'] });
  const html = '<!doctype html><meta charset="utf-8"><script type="module" src="/bundle.js"></script>';
  const server = await startStaticServer({
    routes: { '/': { body: html, type: 'text/html' }, '/bundle.js': { body: script, type: 'text/javascript' } },
    // the test files untyped, as the page sees them whatever their extension
    resolve: (path) => {
      const body = files.get(path);
      return body && { body, type: 'application/octet-stream' };
    },
  });
  const origin = server.origin.replace(/\/$/, '');
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => 'imageProcessor' in globalThis, undefined, { timeout: 20_000 });
    const opened = browser;
    return {
      page,
      origin,
      async close() {
        await opened.close();
        await server.close();
      },
    };
  } catch (error) {
    await browser?.close();
    await server.close();
    throw error;
  }
}

/** Reads a fixture or test file into the map given to {@link openBrowserPage}. */
export function fileBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

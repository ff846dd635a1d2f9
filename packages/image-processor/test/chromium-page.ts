import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));

/** Debian's chromium, or `CHROMIUM_PATH`. tooling/scripts/ensure-browser.sh installs it. */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter((path): path is string => !!path);
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`No chromium found (looked at ${candidates.join(', ')}): run tooling/scripts/ensure-browser.sh or set CHROMIUM_PATH.`);
  return found;
}

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
  const bundle = await build({
    entryPoints: [join(here, 'browser-entry.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@video-llava/source', 'browser'],
    write: false,
    logLevel: 'silent',
  });
  const script = bundle.outputFiles[0]!.contents;
  const html = '<!doctype html><meta charset="utf-8"><script type="module" src="/bundle.js"></script>';
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const body = path === '/' ? new TextEncoder().encode(html) : path === '/bundle.js' ? script : files.get(path);
    if (!body) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const type = path === '/' ? 'text/html' : path.endsWith('.js') ? 'text/javascript' : 'application/octet-stream';
    response.writeHead(200, { 'content-type': type, 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    const page = await browser.newPage();
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => 'imageProcessor' in globalThis, undefined, { timeout: 20_000 });
    const opened = browser;
    return {
      page,
      origin,
      async close() {
        await opened.close();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  } catch (error) {
    await browser?.close();
    server.close();
    throw error;
  }
}

/** Reads a fixture or test file into the map given to {@link openBrowserPage}. */
export function fileBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

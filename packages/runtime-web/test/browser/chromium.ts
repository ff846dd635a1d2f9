import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend, BackendCapabilities } from '@video-llava/runtime';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import type { RuntimeHarness } from './harness.js';
import { createRemoteBackend } from './remote-backend.js';
import { type TestServer, startTestServer } from './test-server.js';

/** Debian's chromium, or the one CHROMIUM_PATH names. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The flags of every run: headless, offline-quiet, and WebGPU on SwiftShader (there is no GPU). */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--enable-unsafe-webgpu',
];

/** A Chromium page running the harness, served by a local cross-origin isolated server. */
export interface ChromiumPage {
  page: Page;
  server: TestServer;
  /** What the page reported: cross-origin isolation and `navigator.gpu`. */
  environment: { crossOriginIsolated: boolean; webgpu: boolean };
  /** runtime-web in the page, driven from Node.js. */
  backend: Backend;
  /** Console errors of the page, for failure messages. */
  consoleErrors: string[];
  close(): Promise<void>;
}

/** Launches Chromium with a fresh profile, opens the harness page and sets runtime-web's WebAssembly threads. */
export async function openChromiumPage(threads: number): Promise<ChromiumPage> {
  const server = await startTestServer();
  const userDataDir = await mkdtemp(join(tmpdir(), 'video-llava-chromium-'));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM_PATH, headless: true, args: ARGS });
    const page = context.pages()[0] ?? (await context.newPage());
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
    await page.goto(server.origin);
    await page.waitForFunction(() => '__runtimeHarness' in window, undefined, { timeout: 30_000 });
    type Harness = { __runtimeHarness: RuntimeHarness };
    const environment = await page.evaluate((count) => (window as unknown as Harness).__runtimeHarness.init({ threads: count }), threads);
    const { name, capabilities } = await page.evaluate(() => (window as unknown as Harness).__runtimeHarness.capabilities());
    const opened = context;
    return {
      page,
      server,
      environment,
      backend: createRemoteBackend(page, name, capabilities as BackendCapabilities),
      consoleErrors,
      async close() {
        await opened.close();
        await server.close();
        await rm(userDataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await context?.close().catch(() => undefined);
    await server.close();
    await rm(userDataDir, { recursive: true, force: true });
    throw error;
  }
}

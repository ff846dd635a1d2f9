import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend, BackendCapabilities } from '@video-llava/runtime';
import type { BrowserContext, Page } from 'playwright-core';
import { launchPersistentChromium } from '@video-llava/test-utils/chromium';
import type { RuntimeHarness } from './harness.js';
import { createRemoteBackend } from './remote-backend.js';
import { type TestServer, startTestServer } from './test-server.js';

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
    context = await launchPersistentChromium(userDataDir, { webgpu: true });
    const page = context.pages()[0] ?? (await context.newPage());
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
    await page.goto(server.origin);
    await page.waitForFunction(() => '__runtimeHarness' in window, undefined, { timeout: 30_000 });
    type Harness = { __runtimeHarness: RuntimeHarness };
    const environment = await page.evaluate(
      (count) => (window as unknown as Harness).__runtimeHarness.init({ threads: count }),
      threads,
    );
    const { name, capabilities } = await page.evaluate(() =>
      (window as unknown as Harness).__runtimeHarness.capabilities(),
    );
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

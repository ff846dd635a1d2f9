import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';

/** Where Chromium is looked for when `CHROMIUM_PATH` is not set: Debian's package first. */
const CHROMIUM_CANDIDATES: readonly string[] = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
];

/**
 * The flags of every browser-test run: headless, no sandbox (containers run as root), no GPU and quiet offline
 * (no background networking, component updates, sync, first-run UI or QUIC).
 */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Turns WebGPU on; with `--disable-gpu` it runs on SwiftShader, so it works without a GPU. */
const WEBGPU_FLAG = '--enable-unsafe-webgpu';

/**
 * The Chromium executable the browser tests drive: `CHROMIUM_PATH` when set, otherwise the first of
 * {@link CHROMIUM_CANDIDATES} that exists.
 *
 * @throws Error naming `CHROMIUM_PATH` and `tooling/scripts/ensure-browser.sh` when there is none.
 */
export function chromiumPath(): string {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (existsSync(configured)) return configured;
    throw new Error(
      `CHROMIUM_PATH is ${configured}, which does not exist: point CHROMIUM_PATH at a Chromium executable, or unset it and run tooling/scripts/ensure-browser.sh.`,
    );
  }
  const found = CHROMIUM_CANDIDATES.find((path) => existsSync(path));
  if (found === undefined) {
    throw new Error(
      `No Chromium found (looked at ${CHROMIUM_CANDIDATES.join(', ')}): run tooling/scripts/ensure-browser.sh (Debian: apt-get install chromium) or set CHROMIUM_PATH to a Chromium executable.`,
    );
  }
  return found;
}

/** How to launch Chromium; every launch gets {@link CHROMIUM_FLAGS}. */
export interface LaunchChromiumOptions {
  /** Adds {@link WEBGPU_FLAG} (WebGPU on SwiftShader). Default false. */
  webgpu?: boolean;
  /** More command-line flags, after the standard ones. */
  args?: readonly string[];
  /** Milliseconds to wait for the browser to start (playwright-core's `timeout`; its default when absent). */
  timeout?: number;
}

function argsOf(options: LaunchChromiumOptions): string[] {
  return [...CHROMIUM_FLAGS, ...(options.webgpu ? [WEBGPU_FLAG] : []), ...(options.args ?? [])];
}

/**
 * Launches headless Chromium ({@link chromiumPath}) through playwright-core, which downloads no browser.
 * Close it with `browser.close()`, e.g. in `afterAll`.
 */
export function launchChromium(options: LaunchChromiumOptions = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: argsOf(options),
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
  });
}

/**
 * Launches headless Chromium with a persistent profile in `userDataDir` (a fresh temporary folder gives a clean
 * profile whose first page is already open). Close it with `context.close()`.
 */
export function launchPersistentChromium(
  userDataDir: string,
  options: LaunchChromiumOptions = {},
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath(),
    headless: true,
    args: argsOf(options),
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
  });
}

import { afterEach, describe, expect, it } from 'vitest';
import { CHROMIUM_FLAGS, chromiumPath } from './launch.js';

describe('chromiumPath', () => {
  const saved = process.env.CHROMIUM_PATH;
  afterEach(() => {
    if (saved === undefined) delete process.env.CHROMIUM_PATH;
    else process.env.CHROMIUM_PATH = saved;
  });

  it('takes CHROMIUM_PATH when it exists', () => {
    process.env.CHROMIUM_PATH = process.execPath;
    expect(chromiumPath()).toBe(process.execPath);
  });

  it('names CHROMIUM_PATH and ensure-browser.sh when CHROMIUM_PATH is missing', () => {
    process.env.CHROMIUM_PATH = '/nonexistent/chromium';
    expect(() => chromiumPath()).toThrow(
      /CHROMIUM_PATH is \/nonexistent\/chromium.*tooling\/scripts\/ensure-browser\.sh/,
    );
  });

  it('runs headless without sandbox, GPU or network chatter', () => {
    expect(CHROMIUM_FLAGS).toEqual(
      expect.arrayContaining(['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking']),
    );
  });
});

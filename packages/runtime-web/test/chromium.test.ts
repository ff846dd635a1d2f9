import { type ProgressEvent, Tensor } from '@video-llava/core';
import { DeviceTensor, toCpuTensor } from '@video-llava/runtime';
import { buildConformanceModels, describeBackendConformance, expectRejection } from '@video-llava/runtime/testing';
import { chromiumPath } from '@video-llava/test-utils/chromium';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChromiumPage, openChromiumPage } from './browser/chromium.js';
import type { RuntimeHarness } from './browser/harness.js';

// One Chromium for the whole file: the suites below share its page (onnxruntime-web initializes once per page).
let opening: Promise<ChromiumPage> | undefined;
const chromiumPage = (): Promise<ChromiumPage> => {
  chromiumPath(); // throws, naming CHROMIUM_PATH and tooling/scripts/ensure-browser.sh, when there is no Chromium
  opening ??= openChromiumPage(2);
  return opening;
};

afterAll(async () => {
  await (await opening)?.close();
});

describeBackendConformance('onnxruntime-web in Chromium (wasm, 2 threads)', async () => {
  const { backend, server } = await chromiumPage();
  return {
    backend,
    placeFiles: server.placeFiles,
    sessionOptions: { executionProviders: ['wasm'] },
    expectedExecutionProvider: 'wasm',
    expectedDevice: 'cpu',
  };
});

describeBackendConformance('onnxruntime-web in Chromium (webgpu on SwiftShader)', async () => {
  const { backend, server } = await chromiumPage();
  // SwiftShader has no shader-f16: float16 models must be refused on it, not computed wrongly.
  return {
    backend,
    placeFiles: server.placeFiles,
    sessionOptions: { executionProviders: ['webgpu'] },
    expectedExecutionProvider: 'webgpu',
    expectedDevice: 'webgpu',
    float16: false,
  };
});

describe('onnxruntime-web in Chromium', () => {
  let browser: ChromiumPage;
  beforeAll(async () => {
    browser = await chromiumPage();
  });

  it('runs in a cross-origin isolated page, with 2 WebAssembly threads, that has WebGPU', async () => {
    expect(browser.environment).toEqual({ crossOriginIsolated: true, webgpu: true });
    expect(browser.backend.capabilities.defaultExecutionProviders).toEqual(['webgpu', 'wasm']);
    expect(browser.backend.capabilities.cache).toBe(true);
    const models = buildConformanceModels();
    await (await browser.backend.createSession(models.add, { executionProviders: ['wasm'] })).release();
    type Harness = { __runtimeHarness: RuntimeHarness };
    expect(await browser.page.evaluate(() => (window as unknown as Harness).__runtimeHarness.wasmThreads())).toBe(2);
  });

  it('downloads a model with progress once, then loads it from the Cache API', async () => {
    const models = buildConformanceModels();
    const locate = await browser.server.placeFiles({
      'cached.onnx': models.externalData,
      [models.externalDataFileName]: models.externalDataFile,
    });
    const url = locate('cached.onnx').toString();
    const dataUrl = locate(models.externalDataFileName).toString();
    const paths = [new URL(url).pathname, new URL(dataUrl).pathname];
    for (let load = 0; load < 2; load++) {
      const events: ProgressEvent[] = [];
      const session = await browser.backend.createSession(url, {
        executionProviders: ['wasm'],
        onProgress: (event) => events.push(event),
      });
      await session.release();
      expect(
        paths.map((path) => browser.server.requests.get(path)),
        `requests after load ${load + 1}`,
      ).toEqual([1, 1]);
      for (const [file, size] of [
        [url, models.externalData.byteLength],
        [dataUrl, models.externalDataFile.byteLength],
      ] as const) {
        const last = events.filter((event) => event.file === file).pop();
        expect(last).toEqual({ stage: 'download', file, done: size, total: size, unit: 'bytes' });
      }
    }
    type Harness = { __runtimeHarness: RuntimeHarness };
    const keys = await browser.page.evaluate(() =>
      (window as unknown as Harness).__runtimeHarness.cacheKeys('video-llava-models'),
    );
    expect(keys).toEqual(expect.arrayContaining([url, dataUrl]));
  });

  it('refuses a GPU buffer fed to a WebAssembly session, and takes it in a WebGPU one', async () => {
    const models = buildConformanceModels();
    const locate = await browser.server.placeFiles({ 'kv-cache.onnx': models.kvCache });
    const onGpu = await browser.backend.createSession(locate('kv-cache.onnx'), {
      executionProviders: ['webgpu'],
      outputLocation: { present: 'device' },
    });
    const onWasm = await browser.backend.createSession(locate('kv-cache.onnx'), { executionProviders: ['wasm'] });
    try {
      const current = new Tensor('float32', Float32Array.from([1, 2]), [1, 1, 2]);
      const { present } = await onGpu.run({ past: new Tensor('float32', new Float32Array(0), [1, 0, 2]), current });
      expect(DeviceTensor.isInstance(present) && present.device).toBe('webgpu');
      const error = await expectRejection(onWasm.run({ past: present!, current }));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.field).toBe('feeds.past');
      expect(error.message).toContain('is a device tensor on webgpu');
      const { present: next } = await onGpu.run({ past: present!, current });
      expect([...(await toCpuTensor(next!)).data]).toEqual([1, 2, 1, 2]);
      (present as DeviceTensor).dispose();
      (next as DeviceTensor).dispose();
    } finally {
      await onGpu.release();
      await onWasm.release();
    }
  });

  it('logged no errors in the page console but the 404s of the missing-file tests', () => {
    expect(browser.consoleErrors.filter((message) => !message.includes('status of 404'))).toEqual([]);
  });
});

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileLocator } from '@video-llava/runtime/testing';
import { bundleForBrowser, startStaticServer } from '@video-llava/test-utils/chromium';

/** The page: onnxruntime-web comes from its own dist folder through an import map, as a bundler would resolve it. */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>runtime-web tests</title>
<script type="importmap">{ "imports": { "onnxruntime-web": "/ort/ort.min.mjs" } }</script>
<script type="module" src="/harness.js"></script>
</head><body></body></html>`;

/** A local web server for the Chromium tests: the page, the bundled harness, onnxruntime-web's files, and test files. */
export interface TestServer {
  /** `http://127.0.0.1:<port>/` */
  origin: string;
  /** Puts files in a fresh folder under `/files/<n>/` and returns their URLs. */
  placeFiles(files: Readonly<Record<string, Uint8Array>>): Promise<FileLocator>;
  /** How many times each path was requested. */
  requests: Map<string, number>;
  close(): Promise<void>;
}

/** The harness, bundled; onnxruntime-web stays an import, resolved by the page's import map. */
function bundleHarness(): Promise<string> {
  return bundleForBrowser(join(dirname(fileURLToPath(import.meta.url)), 'harness.ts'), {
    external: ['onnxruntime-web'],
  });
}

/** Starts the server on 127.0.0.1 with a free port. Every response is cross-origin isolating (COOP + COEP). */
export async function startTestServer(): Promise<TestServer> {
  const ortFolder = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
  const root = await mkdtemp(join(tmpdir(), 'video-llava-runtime-web-served-'));
  const harness = await bundleHarness();
  let folders = 0;

  const server = await startStaticServer({
    routes: { '/': { body: PAGE, type: 'text/html; charset=utf-8' }, '/harness.js': harness },
    // onnxruntime-web's files by name only; test files one folder deep under /files/<n>/
    resolve: (path) => {
      if (path.startsWith('/ort/')) return { file: join(ortFolder, basename(path)) };
      if (/^\/files\/\d+\/[^/]+$/.test(path)) return { file: join(root, ...path.slice('/files/'.length).split('/')) };
      return undefined;
    },
    crossOriginIsolated: true,
    headers: { 'Cache-Control': 'no-store' },
  });

  return {
    origin: server.origin,
    requests: server.requests,
    async placeFiles(files) {
      const folder = String(++folders);
      await mkdir(join(root, folder));
      await Promise.all(Object.entries(files).map(([name, bytes]) => writeFile(join(root, folder, name), bytes)));
      return (name) => new URL(`files/${folder}/${encodeURIComponent(name)}`, server.origin).href;
    },
    async close() {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

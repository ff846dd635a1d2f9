import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { FileLocator } from '@video-llava/runtime/testing';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

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

async function bundleHarness(): Promise<string> {
  const here = dirname(fileURLToPath(import.meta.url));
  const result = await build({
    entryPoints: [join(here, 'harness.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@video-llava/source'],
    external: ['onnxruntime-web'],
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/** Starts the server on 127.0.0.1 with a free port. Every response is cross-origin isolating (COOP + COEP). */
export async function startTestServer(): Promise<TestServer> {
  const ortFolder = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
  const root = await mkdtemp(join(tmpdir(), 'video-llava-runtime-web-served-'));
  const harness = await bundleHarness();
  const requests = new Map<string, number>();
  let folders = 0;

  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    response.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    response.setHeader('Cache-Control', 'no-store');
    const send = (status: number, type: string, body: string): void => {
      response.writeHead(status, { 'Content-Type': type });
      response.end(body);
    };
    if (path === '/') return send(200, MIME['.html']!, PAGE);
    if (path === '/harness.js') return send(200, MIME['.js']!, harness);
    let file: string | undefined;
    if (path.startsWith('/ort/')) file = join(ortFolder, basename(path));
    else if (/^\/files\/\d+\/[^/]+$/.test(path)) file = join(root, ...path.slice('/files/'.length).split('/').map(decodeURIComponent));
    if (file === undefined) return send(404, 'text/plain', 'not found');
    stat(file).then(
      (info) => {
        if (!info.isFile()) return send(404, 'text/plain', 'not found');
        response.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Content-Length': String(info.size) });
        createReadStream(file).pipe(response);
      },
      () => send(404, 'text/plain', 'not found'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  return {
    origin,
    requests,
    async placeFiles(files) {
      const folder = String(++folders);
      await mkdir(join(root, folder));
      await Promise.all(Object.entries(files).map(([name, bytes]) => writeFile(join(root, folder, name), bytes)));
      return (name) => new URL(`files/${folder}/${encodeURIComponent(name)}`, origin).href;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(root, { recursive: true, force: true });
    },
  };
}

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, relative, resolve, sep } from 'node:path';

/** Content types by file extension; anything else is `application/octet-stream`. */
const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.onnx': 'application/octet-stream',
};

/** The content type of a path by its extension ({@link MIME_TYPES}). */
export function mimeTypeOf(path: string): string {
  return MIME_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * What the server answers for a path: a body (text or bytes) or a file on disk, with a content type (by default
 * from the path's extension, {@link mimeTypeOf}).
 */
export type Served = { body: string | Uint8Array; type?: string } | { file: string; type?: string };

/** Maps a decoded URL path (e.g. `/files/1/a.onnx`) to what to serve, or `undefined` for 404. */
export type Resolver = (path: string) => Served | undefined;

/** What a {@link startStaticServer} server serves, and how. */
export interface StaticServerOptions {
  /** Exact decoded paths (e.g. `/`, `/page.js`) to what they serve; a string or bytes is a body typed by the path. */
  routes?: Readonly<Record<string, string | Uint8Array | Served>>;
  /**
   * URL prefixes ending in `/` (e.g. `/videos/`) to folders: `/videos/a/b.mp4` serves `<folder>/a/b.mp4`. Paths
   * that would leave the folder (`..`) are 404.
   */
  folders?: Readonly<Record<string, string>>;
  /** Asked for paths that neither `routes` nor `folders` serve. */
  resolve?: Resolver;
  /**
   * Cross-origin isolation: every response (true), none (false, the default), or those whose path the function
   * accepts, gets `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`.
   */
  crossOriginIsolated?: boolean | ((path: string) => boolean);
  /**
   * Single-range `Range: bytes=...` requests get 206 (or 416) and responses say `Accept-Ranges: bytes`; with
   * false the server ignores `Range` and says `Accept-Ranges: none`. Default true.
   */
  ranges?: boolean;
  /** Headers on every response, e.g. `{ 'Cache-Control': 'no-store' }`. */
  headers?: Readonly<Record<string, string>>;
}

/** A local HTTP server on 127.0.0.1 for browser tests. */
export interface StaticServer {
  /** `http://127.0.0.1:<port>/` */
  origin: string;
  /** The absolute URL of a path of this server. */
  url(path: string): string;
  /** How many times each decoded path was requested (404s included). */
  requests: Map<string, number>;
  /** Stops the server, dropping open connections. */
  close(): Promise<void>;
}

/** A parsed `Range` header against a size: the inclusive byte span, `'unsatisfiable'`, or `undefined` (serve all). */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Several ranges or another unit: answer with the whole body, as a server may.
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
    if (match[2] !== '' && Number(match[2]) < start) return undefined;
  }
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

function inFolder(folder: string, rest: string): string | undefined {
  const root = resolve(folder);
  const candidate = resolve(root, rest);
  const inside = relative(root, candidate);
  return inside !== '' && inside !== '..' && !inside.startsWith(`..${sep}`) ? candidate : undefined;
}

/**
 * Starts a static file server on 127.0.0.1 with a free port: fixed routes, folders and a resolver, with content
 * types that browsers accept (`application/wasm` for WebAssembly streaming compilation, `text/javascript` for
 * modules), optional cross-origin isolation headers and byte ranges. Only GET and HEAD are answered.
 */
export async function startStaticServer(options: StaticServerOptions = {}): Promise<StaticServer> {
  const requests = new Map<string, number>();
  const ranges = options.ranges ?? true;
  const isolated = options.crossOriginIsolated ?? false;
  const folders = Object.entries(options.folders ?? {});

  const lookup = (path: string): Served | undefined => {
    const route = options.routes?.[path];
    if (route !== undefined) return typeof route === 'string' || route instanceof Uint8Array ? { body: route } : route;
    for (const [prefix, folder] of folders) {
      if (!path.startsWith(prefix)) continue;
      const file = inFolder(folder, path.slice(prefix.length));
      if (file !== undefined) return { file };
    }
    return options.resolve?.(path);
  };

  const answer = (
    request: IncomingMessage,
    response: ServerResponse,
    type: string,
    size: number,
    write: (span?: { start: number; end: number }) => void,
  ): void => {
    response.setHeader('Content-Type', type);
    response.setHeader('Accept-Ranges', ranges ? 'bytes' : 'none');
    const span = ranges ? parseRange(request.headers.range, size) : undefined;
    if (span === 'unsatisfiable') {
      response.writeHead(416, { 'Content-Range': `bytes */${size}`, 'Content-Length': '0' }).end();
      return;
    }
    if (span === undefined) response.writeHead(200, { 'Content-Length': String(size) });
    else
      response.writeHead(206, {
        'Content-Range': `bytes ${span.start}-${span.end}/${size}`,
        'Content-Length': String(span.end - span.start + 1),
      });
    if (request.method === 'HEAD') response.end();
    else write(span);
  };

  const notFound = (response: ServerResponse): void =>
    void response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');

  const server: Server = createServer((request, response) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    } catch {
      response.writeHead(400, { 'Content-Type': 'text/plain' }).end('bad path');
      return;
    }
    requests.set(path, (requests.get(path) ?? 0) + 1);
    for (const [name, value] of Object.entries(options.headers ?? {})) response.setHeader(name, value);
    if (typeof isolated === 'function' ? isolated(path) : isolated) {
      response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      response.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed');
      return;
    }
    let served: Served | undefined;
    try {
      served = lookup(path);
    } catch (error) {
      response.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(error));
      return;
    }
    if (served === undefined) return notFound(response);
    const type = served.type ?? mimeTypeOf(path);
    if ('body' in served) {
      const bytes = typeof served.body === 'string' ? Buffer.from(served.body) : served.body;
      return answer(request, response, type, bytes.byteLength, (span) =>
        response.end(span ? bytes.subarray(span.start, span.end + 1) : bytes),
      );
    }
    const file = served.file;
    stat(file).then(
      (info) => {
        if (!info.isFile()) return notFound(response);
        answer(request, response, type, info.size, (span) => createReadStream(file, span).pipe(response));
      },
      () => notFound(response),
    );
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    origin,
    url: (path) => new URL(path.replace(/^\//, ''), origin).href,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

import { createHash } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the server saw. */
export interface RecordedRequest {
  method: string;
  /** The URL path, decoded. */
  path: string;
  /** Header values (lower-case names). */
  range: string | undefined;
  authorization: string | undefined;
  /** Body bytes the server wrote in its answer. */
  sent: number;
}

/** How the local server behaves; tests may change these fields between requests. */
export interface HubTestServerOptions {
  /** Repository id served under `/{repo}/resolve/{revision}/`. */
  repo: string;
  /** The commit `main` points to. */
  commit: string;
  /** Files of the repository, by path. */
  files: Record<string, Uint8Array | string>;
  /** Paths served like LFS files: HEAD and GET answer 302 to `/cdn/{sha256}` with X-Linked-* headers. */
  lfs?: string[];
  /** Whether `Range` requests get 206 answers (else the whole file with 200). */
  supportsRange?: boolean;
  /** Path -> bytes after which the next GET of that path closes the connection (used once, then deleted). */
  truncateOnce?: Record<string, number>;
  /** When set, requests without `Authorization: Bearer <token>` get 401. */
  requiredToken?: string;
  /** Status to answer every GET with (a server error). */
  failWithStatus?: number;
  /** Path -> the X-Linked-Size an LFS file claims (a hub that disagrees with its CDN). */
  linkedSizeOverride?: Record<string, number>;
}

/** A local HTTP server speaking the parts of the Hugging Face hub protocol the sources use, plus `/static/` plain files. */
export interface HubTestServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  options: HubTestServerOptions;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

function toBytes(value: Uint8Array | string): Buffer {
  return typeof value === 'string'
    ? Buffer.from(value, 'utf8')
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function sha(algorithm: 'sha1' | 'sha256', body: Buffer): string {
  return createHash(algorithm).update(body).digest('hex');
}

function sendBody(
  request: IncomingMessage,
  response: ServerResponse,
  body: Buffer,
  headers: Record<string, string>,
  options: HubTestServerOptions,
  path: string,
  record: RecordedRequest,
): void {
  const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
  let status = 200;
  let slice = body;
  if (range && (options.supportsRange ?? true)) {
    const start = Number(range[1]);
    if (start >= body.length) {
      response.writeHead(416, { 'Content-Range': `bytes */${body.length}` });
      response.end();
      return;
    }
    status = 206;
    slice = body.subarray(start);
    headers['Content-Range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
  }
  response.writeHead(status, { ...headers, 'Content-Length': String(slice.length), 'Accept-Ranges': 'bytes' });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  const cut = options.truncateOnce?.[path];
  if (cut !== undefined) {
    delete options.truncateOnce![path];
    record.sent = cut;
    response.write(slice.subarray(0, cut), () => {
      setTimeout(() => response.socket?.destroy(), 20);
    });
    return;
  }
  record.sent = slice.length;
  response.end(slice);
}

/** Starts the server on 127.0.0.1 with a free port. */
export async function startHubTestServer(options: HubTestServerOptions): Promise<HubTestServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const path = decodeURIComponent(url.pathname);
    const record: RecordedRequest = {
      method: request.method ?? 'GET',
      path,
      range: request.headers.range,
      authorization: request.headers.authorization,
      sent: 0,
    };
    requests.push(record);
    const base = `http://${request.headers.host}`;
    if (
      options.requiredToken !== undefined &&
      request.headers.authorization !== `Bearer ${options.requiredToken}` &&
      !path.startsWith('/cdn/')
    ) {
      response.writeHead(401, {
        'X-Error-Code': 'GatedRepo',
        'X-Error-Message': 'Access to this repository is restricted.',
      });
      response.end();
      return;
    }
    if (options.failWithStatus !== undefined && request.method === 'GET') {
      response.writeHead(options.failWithStatus);
      response.end('server error');
      return;
    }
    if (path.startsWith('/static/')) {
      const file = options.files[path.slice('/static/'.length)];
      if (file === undefined) {
        response.writeHead(404);
        response.end('not found');
        return;
      }
      sendBody(request, response, toBytes(file), {}, options, path.slice('/static/'.length), record);
      return;
    }
    if (path.startsWith('/cdn/')) {
      const hash = path.slice('/cdn/'.length);
      const entry = Object.entries(options.files).find(([, value]) => sha('sha256', toBytes(value)) === hash);
      if (!entry) {
        response.writeHead(404);
        response.end();
        return;
      }
      sendBody(request, response, toBytes(entry[1]), {}, options, entry[0], record);
      return;
    }
    const prefix = `/${options.repo}/resolve/`;
    if (!path.startsWith(prefix)) {
      response.writeHead(401, { 'X-Error-Code': 'RepoNotFound', 'X-Error-Message': 'Repository not found' });
      response.end();
      return;
    }
    const rest = url.pathname.slice(`/${options.repo}/resolve/`.length);
    const slash = rest.indexOf('/');
    const revision = decodeURIComponent(rest.slice(0, slash));
    const filePath = decodeURIComponent(rest.slice(slash + 1));
    if (revision !== 'main' && revision !== options.commit) {
      response.writeHead(404, { 'X-Error-Code': 'RevisionNotFound', 'X-Error-Message': `Invalid rev id: ${revision}` });
      response.end();
      return;
    }
    const file = options.files[filePath];
    if (file === undefined) {
      response.writeHead(404, {
        'X-Repo-Commit': options.commit,
        'X-Error-Code': 'EntryNotFound',
        'X-Error-Message': 'Entry not found',
      });
      response.end();
      return;
    }
    const body = toBytes(file);
    if (options.lfs?.includes(filePath)) {
      const hash = sha('sha256', body);
      response.writeHead(302, {
        Location: `${base}/cdn/${hash}`,
        'X-Repo-Commit': options.commit,
        'X-Linked-Etag': `"${hash}"`,
        'X-Linked-Size': String(options.linkedSizeOverride?.[filePath] ?? body.length),
        ETag: `"${sha('sha1', Buffer.from(hash))}"`,
      });
      response.end();
      return;
    }
    sendBody(
      request,
      response,
      body,
      { 'X-Repo-Commit': options.commit, ETag: `"${sha('sha1', body)}"` },
      options,
      filePath,
      record,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    options,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** The git-blob-like ETag the server sends for a regular file (sha1 of the content). */
export function regularEtag(body: Uint8Array | string): string {
  return sha('sha1', toBytes(body));
}

/** The LFS ETag the server sends for a large file (sha256 of the content). */
export function lfsEtag(body: Uint8Array | string): string {
  return sha('sha256', toBytes(body));
}

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running {@link startTestHubServer}. */
export interface TestHubServer {
  /** `http://127.0.0.1:<port>`, for `HF_ENDPOINT`. */
  endpoint: string;
  /** Stops the server, dropping open connections. */
  close(): Promise<void>;
}

/**
 * A local stand-in for the Hugging Face hub, so that tests of hub ids need no network: it serves the `files` of
 * one repository at revision `main`, HEAD and GET, with `X-Repo-Commit: commit`; any other path is a 404.
 */
export async function startTestHubServer(options: { repository: string; commit: string; files: Record<string, Uint8Array> }): Promise<TestHubServer> {
  const prefix = `/${options.repository}/resolve/main/`;
  const server = createServer((request, response) => {
    const body = request.url?.startsWith(prefix) ? options.files[decodeURIComponent(request.url.slice(prefix.length))] : undefined;
    if (!body) {
      response.writeHead(404, { 'X-Repo-Commit': options.commit });
      response.end();
      return;
    }
    response.writeHead(200, { 'X-Repo-Commit': options.commit, ETag: `"${body.length}-${request.url!.length}"`, 'Content-Length': String(body.length) });
    response.end(request.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await closed;
    },
  };
}

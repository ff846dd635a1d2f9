import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A real redis-server (Debian's; tooling/scripts/ensure-redis.sh installs it), started for a test on a random loopback port with its own folder. */
export interface TestRedis {
  /** `redis://127.0.0.1:PORT`. */
  url: string;
  port: number;
  /** Its working folder (the AOF files live here). */
  folder: string;
  /** Stops it (SHUTDOWN: with AOF on, what was written is on disk) and starts it again on the same port and folder. */
  restart(): Promise<void>;
  /** Stops it and removes its folder. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const STARTUP_MS = 10_000;

/**
 * Starts `redis-server` on a free loopback port (REDIS_SERVER overrides the binary).
 *
 * @param appendOnly AOF persistence with an fsync per write (`appendfsync always`), as a deployment that must not
 *   lose queued jobs runs it
 */
export async function startTestRedis(options: { appendOnly?: boolean } = {}): Promise<TestRedis> {
  const folder = await mkdtemp(join(tmpdir(), 'video-llava-redis-'));
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    folder,
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
  ];
  args.push(...(options.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
  let child: ChildProcess | undefined;
  let log = '';
  const start = async (): Promise<void> => {
    log = '';
    const started = spawn(process.env.REDIS_SERVER ?? 'redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    started.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    started.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const spawnError = new Promise<never>((_, reject) =>
      started.once('error', (error) =>
        reject(new Error(`redis-server could not start (${error.message}): run tooling/scripts/ensure-redis.sh`)),
      ),
    );
    spawnError.catch(() => {});
    for (const begin = Date.now(); Date.now() - begin < STARTUP_MS; ) {
      if (started.exitCode !== null) throw new Error(`redis-server exited with ${started.exitCode}:\n${log}`);
      if (await Promise.race([accepting(port), spawnError])) return;
      await sleep(20);
    }
    throw new Error(`redis-server did not listen on ${port} within ${STARTUP_MS} ms:\n${log}`);
  };
  const shutdown = async (): Promise<void> => {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM'); // redis-server's SIGTERM is a SHUTDOWN: the AOF is flushed first
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    folder,
    async restart() {
      await shutdown();
      await start();
    },
    async stop() {
      await shutdown();
      await rm(folder, { recursive: true, force: true });
    },
  };
}

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * The peers of the real-dimension bench, pinned exactly. They are heavy (node-llama-cpp brings ~732 MB of prebuilt
 * llama.cpp binaries), so they are NOT workspace dependencies: they are installed on the first `pnpm bench 7b` run
 * into a git-ignored folder of their own (`bench/.peers/`), never by `pnpm install`, `npm run demo` or CI.
 */
export const PEER_VERSIONS = {
  'node-llama-cpp': '3.21.1',
  '@huggingface/transformers': '4.3.1',
} as const;

export type PeerName = keyof typeof PEER_VERSIONS;

/** The installed version of `name` under `folder`, or undefined. */
function installedVersion(folder: string, name: string): string | undefined {
  const manifest = join(folder, 'node_modules', name, 'package.json');
  if (!existsSync(manifest)) return undefined;
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version;
}

/**
 * Installs the pinned peers into `folder` (its own package.json, `npm install`) unless they are there already,
 * and returns a `require` rooted there. Install scripts are skipped: node-llama-cpp's prebuilt CPU binary comes
 * as an optional dependency (`@node-llama-cpp/linux-x64`), and onnxruntime-node's script only downloads CUDA
 * libraries (ONNXRUNTIME_NODE_INSTALL=skip as well, should scripts be turned on).
 */
export function ensurePeers(folder: string, log: (line: string) => void): NodeJS.Require {
  mkdirSync(folder, { recursive: true });
  const missing = Object.entries(PEER_VERSIONS).filter(([name, version]) => installedVersion(folder, name) !== version);
  if (missing.length > 0) {
    writeFileSync(
      join(folder, 'package.json'),
      `${JSON.stringify({ name: 'video-llava-bench-peers', private: true, description: 'Peers of pnpm bench 7b, installed on demand (git-ignored).', dependencies: PEER_VERSIONS }, null, 2)}\n`,
    );
    log(
      `installing ${missing.map(([name, version]) => `${name}@${version}`).join(', ')} into ${folder} (once; node-llama-cpp alone is ~732 MB)`,
    );
    const started = performance.now();
    const result = spawnSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: folder,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        ONNXRUNTIME_NODE_INSTALL: 'skip',
        ONNXRUNTIME_NODE_INSTALL_CUDA: 'skip',
        NODE_LLAMA_CPP_SKIP_DOWNLOAD: 'true',
      },
    });
    if (result.status !== 0)
      throw new Error(`npm install of the bench peers in ${folder} failed (exit ${result.status ?? result.signal})`);
    for (const [name, version] of Object.entries(PEER_VERSIONS)) {
      const found = installedVersion(folder, name);
      if (found !== version)
        throw new Error(`after npm install, ${name} in ${folder} is ${found ?? 'missing'}, expected ${version}`);
    }
    log(`peers installed in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  return createRequire(join(folder, 'package.json'));
}

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The bench folder. */
export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
/** The repository root. */
export const REPO_DIR = dirname(BENCH_DIR);
/** The tiny fixture's model folder: tokenizer and processor files of the synthetic checkpoints come from here. */
export const FIXTURE_MODEL_DIR = join(REPO_DIR, 'fixtures/video-llava-tiny/model');
export const FIXTURE_VIDEO = join(REPO_DIR, 'fixtures/video-llava-tiny/video/sample_48f_320x240.mp4');

/**
 * Where the real-dimension bench keeps what it writes once (synthetic checkpoints, conversions, GGUF files, ceiling
 * models, the peers' install): `VIDEO_LLAVA_BENCH_CACHE`, else `bench/.cache/` (git-ignored).
 */
export function cacheRoot(): string {
  return process.env['VIDEO_LLAVA_BENCH_CACHE'] || join(BENCH_DIR, '.cache');
}

/** The peers' own install folder (package.json + node_modules): `VIDEO_LLAVA_BENCH_PEERS`, else `<cache>/peers`. */
export function peersDir(): string {
  return process.env['VIDEO_LLAVA_BENCH_PEERS'] || join(cacheRoot(), 'peers');
}

function listFiles(directory: string, filter: (path: string) => boolean): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(directory);
  } catch {
    return out;
  }
  for (const name of entries.sort()) {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) out.push(...listFiles(path, filter));
    else if (filter(path)) out.push(path);
  }
  return out;
}

/**
 * A hash of what decides the converter's output: the built files (dist/) and the sources (src/, tests left out) of
 * @video-llava/converter and the packages it writes with (@video-llava/onnx, @video-llava/config, @video-llava/core),
 * plus `extra` (the conversion options). The bench runs from source (`--conditions=@video-llava/source`), so a
 * source change reconverts even before a build.
 */
export function converterHash(extra: unknown): string {
  const hash = createHash('sha256');
  for (const name of ['converter', 'onnx', 'config', 'core']) {
    const root = join(REPO_DIR, 'packages', name);
    for (const folder of ['dist', 'src']) {
      for (const file of listFiles(join(root, folder), (path) => !/\.test\.ts$|\.map$|\.tsbuildinfo$/.test(path))) {
        hash.update(relative(REPO_DIR, file));
        hash.update(readFileSync(file));
      }
    }
  }
  hash.update(JSON.stringify(extra));
  return hash.digest('hex');
}

/** The current commit (short) and whether the worktree has changes. */
export function gitDescribe(): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_DIR }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: REPO_DIR }).toString().trim().length > 0;
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

#!/usr/bin/env node
// Builds the in-place runner (inplace-runner.cc) into dist/native/video_llava_inplace.node with the machine's C++
// compiler and Node's own headers: `node src/native/build.mjs [--optional]`. It runs as part of the package's build.
//
// Nothing is downloaded: the headers are those of the Node.js that runs this script (`<prefix>/include/node`, or
// npm's `nodedir` / VIDEO_LLAVA_NODE_HEADERS), node-addon-api's headers come from the npm registry, and ONNX Runtime
// is loaded at run time from onnxruntime-node's own folder. The result is skipped when it is newer than its sources.
// With --optional a machine without a compiler or headers gets a warning instead of a failure: the runner is an
// opt-in engine, and everything else works without it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const packageRoot = resolve(here, '../..');
const output = join(packageRoot, 'dist/native/video_llava_inplace.node');
const sources = [join(here, 'inplace-runner.cc'), join(here, 'ort-c-api.h'), fileURLToPath(import.meta.url)];
const optional = process.argv.includes('--optional');

function fail(message) {
  if (optional) {
    process.stderr.write(`[runtime-node] the in-place runner was not built: ${message}\n`);
    process.exit(0);
  }
  process.stderr.write(`[runtime-node] cannot build the in-place runner: ${message}\n`);
  process.exit(1);
}

if (process.platform !== 'linux' && process.platform !== 'darwin')
  fail(`${process.platform} is not supported (Linux and macOS are)`);
const headerCandidates = [
  process.env.VIDEO_LLAVA_NODE_HEADERS,
  process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include/node'),
  join(dirname(dirname(process.execPath)), 'include/node'),
].filter(Boolean);
const nodeHeaders = headerCandidates.find((folder) => existsSync(join(folder, 'node_api.h')));
if (!nodeHeaders) fail(`no node_api.h in ${headerCandidates.join(', ')} (set VIDEO_LLAVA_NODE_HEADERS)`);
let addonHeaders;
try {
  addonHeaders = dirname(createRequire(join(packageRoot, 'package.json')).resolve('node-addon-api/napi.h'));
} catch (error) {
  fail(`node-addon-api is not installed (${error.message})`);
}

const newest = Math.max(...sources.map((file) => statSync(file).mtimeMs));
if (existsSync(output) && statSync(output).mtimeMs > newest) process.exit(0);
mkdirSync(dirname(output), { recursive: true });
const compiler = process.env.CXX || 'c++';
const args = [
  '-std=c++17',
  '-O2',
  '-shared',
  '-fPIC',
  '-fvisibility=hidden',
  '-DNAPI_VERSION=8',
  '-DNAPI_CPP_EXCEPTIONS',
  '-DNODE_ADDON_API_DISABLE_DEPRECATED',
  `-I${nodeHeaders}`,
  `-I${addonHeaders}`,
  join(here, 'inplace-runner.cc'),
  '-o',
  output,
  ...(process.platform === 'darwin' ? ['-undefined', 'dynamic_lookup'] : ['-ldl']),
];
try {
  execFileSync(compiler, args, { stdio: ['ignore', 'inherit', 'inherit'] });
} catch (error) {
  fail(`${compiler} failed (${error.message.split('\n')[0]})`);
}

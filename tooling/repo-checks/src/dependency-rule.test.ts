import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { repositoryRoot } from '@video-llava/test-utils';
import { describe, expect, it } from 'vitest';
import { importsOf, listSourceFiles, listWorkspacePackages, readDependencyTable, show } from './workspace.js';

const packages = listWorkspacePackages();
const byName = new Map(packages.map((item) => [item.name, item]));
const table = readDependencyTable();
const tooling = new Set(packages.filter((item) => item.folder.startsWith('tooling/')).map((item) => item.name));
// Packages that exist to run in Node (ARCHITECTURE.md: "Node-only code sits behind a ./node entry or in
// runtime-node"). Their main entry may use Node; nobody's isomorphic main entry may import them. `video-llava`'s
// main entry is its Node entry (it wires runtime-node); browsers import `video-llava/web`. `worker` talks to Redis
// and runs the Node model.
const NODE_ONLY_PACKAGES = new Set(['@video-llava/runtime-node', 'video-llava', '@video-llava/worker']);
const NODE_ONLY = [/^node:/, /^(fs|path|os|child_process|worker_threads|http|https|net|stream|url|crypto|zlib)(\/|$)/, /^sharp$/, /^onnxruntime-node$/, /^@ffmpeg-installer\//, /^node-av/];

function workspaceName(specifier: string): string | undefined {
  const match = /^(@video-llava\/[^/]+|video-llava)(\/.*)?$/.exec(specifier);
  return match && byName.has(match[1]!) ? match[1] : undefined;
}

describe('ARCHITECTURE.md dependency table', () => {
  it('has a row for every folder under packages/ and no row without a folder', () => {
    const folders = packages.filter((item) => item.folder.startsWith('packages/')).map((item) => item.folder).sort();
    expect([...table.keys()].sort()).toEqual(folders);
  });
});

describe.each(packages.filter((item) => item.folder.startsWith('packages/')))('$folder', (item) => {
  const allowedFolders = table.get(item.folder) ?? [];
  const allowedNames = new Set(allowedFolders.map((folder) => packages.find((other) => other.folder === folder)?.name).filter(Boolean));

  it('declares only the workspace dependencies its row allows', () => {
    const offending: string[] = [];
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
      for (const dependency of Object.keys(item.json[field] ?? {})) {
        if (byName.has(dependency) && !allowedNames.has(dependency)) offending.push(`${field}: ${dependency}`);
      }
    }
    for (const dependency of Object.keys(item.json.devDependencies ?? {})) {
      if (byName.has(dependency) && !allowedNames.has(dependency) && !tooling.has(dependency)) offending.push(`devDependencies: ${dependency}`);
    }
    expect(offending, `${item.folder}/package.json may depend on ${[...allowedNames].join(', ') || 'no workspace package'}`).toEqual([]);
  });

  it('imports only allowed workspace packages, each declared in package.json', () => {
    const offending: string[] = [];
    for (const file of listSourceFiles(join(repositoryRoot, item.folder, 'src'))) {
      const isTest = /\.test\.ts$|[\\/]test[\\/]|test-/.test(file);
      for (const specifier of importsOf(file)) {
        const name = workspaceName(specifier);
        if (!name || name === item.name) continue;
        const ok = allowedNames.has(name) || (isTest && tooling.has(name));
        if (!ok) offending.push(`${show(file)} imports ${specifier}`);
        const declared = { ...item.json.dependencies, ...item.json.peerDependencies, ...item.json.devDependencies };
        if (!(name in declared)) offending.push(`${show(file)} imports ${specifier} but ${item.folder}/package.json does not declare ${name}`);
      }
    }
    expect(offending).toEqual([]);
  });

  if (NODE_ONLY_PACKAGES.has(item.name)) {
    it('is Node-only by design: declares a Node engine and offers no browser condition', () => {
      expect(item.json.engines?.node, `${item.folder}/package.json engines.node`).toBeTypeOf('string');
      expect(JSON.stringify(item.json.exports ?? {})).not.toMatch(/"browser"/);
    });
    return;
  }

  it('keeps Node-only modules out of the main entry (it must bundle for browsers)', () => {
    const entry = item.json.exports?.['.']?.['@video-llava/source'];
    expect(entry, `${item.folder}/package.json exports["."] needs a "@video-llava/source" condition`).toBeTypeOf('string');
    const seen = new Set<string>();
    const offending: string[] = [];
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const specifier of importsOf(file)) {
        if (specifier.startsWith('.')) {
          const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
          const candidates = [target, `${target}.ts`, join(target, 'index.ts')];
          const found = candidates.find((candidate) => existsSync(candidate) && !candidate.endsWith('/'));
          if (found) visit(found);
        } else if (NODE_ONLY.some((pattern) => pattern.test(specifier))) {
          offending.push(`${show(file)} imports ${specifier}`);
        } else if (NODE_ONLY_PACKAGES.has(workspaceName(specifier) ?? '')) {
          offending.push(`${show(file)} imports the Node-only package ${specifier}`);
        } else if (workspaceName(specifier) && /\/node$/.test(specifier)) {
          offending.push(`${show(file)} imports the Node entry ${specifier}`);
        }
      }
    };
    visit(resolve(repositoryRoot, item.folder, entry));
    expect(offending).toEqual([]);
  });
});

describe('apps', () => {
  it('are imported by nobody', () => {
    const apps = new Set(packages.filter((item) => item.folder.startsWith('apps/')).map((item) => item.name));
    const offending = packages.flatMap((item) =>
      ['dependencies', 'devDependencies', 'peerDependencies'].flatMap((field) => Object.keys(item.json[field] ?? {}).filter((dependency) => apps.has(dependency)).map((dependency) => `${item.folder} -> ${dependency}`)),
    );
    expect(offending).toEqual([]);
  });
});

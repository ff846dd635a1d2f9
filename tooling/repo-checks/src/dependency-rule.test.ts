import { join } from 'node:path';
import { repositoryRoot } from '@video-llava/test-utils';
import { describe, expect, it } from 'vitest';
import { NODE_ONLY_ENTRIES } from './import-graph.js';
import { importsOf, listSourceFiles, listWorkspacePackages, readDependencyTable, show } from './workspace.js';

const packages = listWorkspacePackages();
const byName = new Map(packages.map((item) => [item.name, item]));
const table = readDependencyTable();
const tooling = new Set(packages.filter((item) => item.folder.startsWith('tooling/')).map((item) => item.name));
// Packages that exist to run in Node (ARCHITECTURE.md: "Node-only code sits behind a ./node entry or in
// runtime-node"); `video-llava`'s main entry is its Node entry (it wires runtime-node), browsers import `video-llava/web`.
const NODE_ONLY_PACKAGES = new Set(NODE_ONLY_ENTRIES.keys());

function workspaceName(specifier: string): string | undefined {
  const match = /^(@video-llava\/[^/]+|video-llava)(\/.*)?$/.exec(specifier);
  return match && byName.has(match[1]!) ? match[1] : undefined;
}

describe('ARCHITECTURE.md dependency table', () => {
  it('has a row for every folder under packages/ and no row without a folder', () => {
    const folders = packages
      .filter((item) => item.folder.startsWith('packages/'))
      .map((item) => item.folder)
      .sort();
    expect([...table.keys()].sort()).toEqual(folders);
  });
});

describe.each(packages.filter((item) => item.folder.startsWith('packages/')))('$folder', (item) => {
  const allowedFolders = table.get(item.folder) ?? [];
  const allowedNames = new Set(
    allowedFolders.map((folder) => packages.find((other) => other.folder === folder)?.name).filter(Boolean),
  );

  it('declares only the workspace dependencies its row allows', () => {
    const offending: string[] = [];
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
      for (const dependency of Object.keys(item.json[field] ?? {})) {
        if (byName.has(dependency) && !allowedNames.has(dependency)) offending.push(`${field}: ${dependency}`);
      }
    }
    for (const dependency of Object.keys(item.json.devDependencies ?? {})) {
      if (byName.has(dependency) && !allowedNames.has(dependency) && !tooling.has(dependency))
        offending.push(`devDependencies: ${dependency}`);
    }
    expect(
      offending,
      `${item.folder}/package.json may depend on ${[...allowedNames].join(', ') || 'no workspace package'}`,
    ).toEqual([]);
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
        if (!(name in declared))
          offending.push(`${show(file)} imports ${specifier} but ${item.folder}/package.json does not declare ${name}`);
      }
    }
    expect(offending).toEqual([]);
  });

  if (NODE_ONLY_PACKAGES.has(item.name)) {
    it('is Node-only by design: declares a Node engine and offers no browser condition', () => {
      expect(item.json.engines?.node, `${item.folder}/package.json engines.node`).toBeTypeOf('string');
      expect(JSON.stringify(item.json.exports ?? {})).not.toMatch(/"browser"/);
    });
  }
  // That every other entry bundles for a browser (no Node built-in reachable from it) is imports.test.ts's check.
});

describe('apps', () => {
  it('are imported by nobody', () => {
    const apps = new Set(packages.filter((item) => item.folder.startsWith('apps/')).map((item) => item.name));
    const offending = packages.flatMap((item) =>
      ['dependencies', 'devDependencies', 'peerDependencies'].flatMap((field) =>
        Object.keys(item.json[field] ?? {})
          .filter((dependency) => apps.has(dependency))
          .map((dependency) => `${item.folder} -> ${dependency}`),
      ),
    );
    expect(offending).toEqual([]);
  });
});

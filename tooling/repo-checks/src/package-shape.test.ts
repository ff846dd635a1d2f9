import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryRoot } from '@video-llava/test-utils';
import { describe, expect, it } from 'vitest';
import { type WorkspacePackage, listWorkspacePackages } from './workspace.js';

const workspace = listWorkspacePackages();
const byName = new Map(workspace.map((item) => [item.name, item]));
const published = workspace.filter((item) => item.folder.startsWith('packages/'));
const rootLicense = readFileSync(join(repositoryRoot, 'LICENSE'), 'utf8');
const repositoryUrl = 'https://github.com/video-llava-js/video-llava.js';

/** Every npm package a package installs with it: its dependencies, and theirs through the workspace. */
function installedWith(item: WorkspacePackage, seen = new Set<string>()): Set<string> {
  for (const name of Object.keys(item.json.dependencies ?? {})) {
    if (seen.has(name)) continue;
    seen.add(name);
    const inner = byName.get(name);
    if (inner) installedWith(inner, seen);
  }
  return seen;
}

/** The README's install section: from its first `npm install` line to the next `## ` heading. */
function installSection(item: WorkspacePackage): string {
  const readme = readFileSync(join(repositoryRoot, item.folder, 'README.md'), 'utf8');
  const start = readme.indexOf('npm install');
  if (start < 0) return '';
  const end = readme.indexOf('\n## ', start);
  return readme.slice(start, end < 0 ? undefined : end);
}

describe('the repository', () => {
  it('has an Apache-2.0 LICENSE, the license every package declares', () => {
    expect(rootLicense).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    for (const item of published) expect(item.json.license, item.folder).toBe('Apache-2.0');
  });
});

describe.each(published)('$folder package.json', (item) => {
  it('has the one shape every published package shares', () => {
    const json = item.json;
    expect(json.name === 'video-llava' || json.name.startsWith('@video-llava/')).toBe(true);
    expect(json.private).not.toBe(true);
    expect(json.type).toBe('module');
    expect(json.sideEffects).toBe(false);
    expect(json.engines?.node).toBeTypeOf('string');
    expect(json.files).toContain('dist');
    expect(json.license).toBeTypeOf('string');
    expect(json.exports, 'exports').toBeTypeOf('object');
    for (const [subpath, target] of Object.entries(json.exports ?? {})) {
      if (subpath === './package.json') continue;
      expect(target, `exports["${subpath}"]: conditions, not a bare path`).toBeTypeOf('object');
      const conditions = typeof target === 'string' ? {} : target;
      const keys = Object.keys(conditions);
      const source = conditions['@video-llava/source'] ?? '';
      expect(keys[0], `exports["${subpath}"]: the source condition comes first`).toBe('@video-llava/source');
      expect(keys.indexOf('types'), `exports["${subpath}"]: "types" before "default"`).toBeLessThan(
        keys.indexOf('default'),
      );
      expect(existsSync(join(repositoryRoot, item.folder, source)), `${item.folder}: ${source} exists`).toBe(true);
    }
    for (const script of ['build', 'test', 'typecheck', 'lint'])
      expect(json.scripts?.[script], `script ${script}`).toBeTypeOf('string');
  });

  it('is ready to publish: LICENSE shipped, keywords, homepage, bugs, and a prepack that builds', () => {
    const json = item.json;
    expect(
      readFileSync(join(repositoryRoot, item.folder, 'LICENSE'), 'utf8'),
      `${item.folder}/LICENSE is the root LICENSE`,
    ).toBe(rootLicense);
    expect(json.files).toContain('LICENSE');
    expect(json.keywords).toEqual(expect.arrayContaining(['video-llava']));
    expect(json.repository).toEqual({ type: 'git', url: `git+${repositoryUrl}.git`, directory: item.folder });
    expect(json.homepage).toBe(`${repositoryUrl}/tree/main/${item.folder}#readme`);
    expect(json.bugs).toEqual({ url: `${repositoryUrl}/issues` });
    // A tarball is built when packed (npm pack, pnpm publish, changeset publish), so it never ships a stale dist.
    expect(json.scripts?.prepack).toBe('pnpm run build');
  });

  it("says in its README's install section which optional packages a feature needs, and how to skip onnxruntime-node's CUDA download", () => {
    const section = installSection(item);
    expect(section, `${item.folder}/README.md has an install line`).toContain(`npm install ${item.name}`);
    const optional = Object.keys(item.json.peerDependenciesMeta ?? {}).filter(
      (name) => name === 'sharp' || name === '@ffmpeg-installer/ffmpeg',
    );
    for (const name of optional)
      expect(section, `${item.folder}/README.md install section names the optional ${name}`).toContain(name);
    if (installedWith(item).has('onnxruntime-node'))
      expect(section, `${item.folder}/README.md install section`).toContain('ONNXRUNTIME_NODE_INSTALL=skip');
  });

  it('has a README and a tsup config', () => {
    expect(existsSync(join(repositoryRoot, item.folder, 'README.md'))).toBe(true);
    expect(existsSync(join(repositoryRoot, item.folder, 'tsup.config.ts'))).toBe(true);
  });
});

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryRoot } from '@video-llava/test-utils';
import { describe, expect, it } from 'vitest';
import { listWorkspacePackages } from './workspace.js';

const published = listWorkspacePackages().filter((item) => item.folder.startsWith('packages/'));

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
      expect(keys.indexOf('types'), `exports["${subpath}"]: "types" before "default"`).toBeLessThan(keys.indexOf('default'));
      expect(existsSync(join(repositoryRoot, item.folder, source)), `${item.folder}: ${source} exists`).toBe(true);
    }
    for (const script of ['build', 'test', 'typecheck', 'lint']) expect(json.scripts?.[script], `script ${script}`).toBeTypeOf('string');
  });

  it('has a README and a tsup config', () => {
    expect(existsSync(join(repositoryRoot, item.folder, 'README.md'))).toBe(true);
    expect(existsSync(join(repositoryRoot, item.folder, 'tsup.config.ts'))).toBe(true);
  });
});

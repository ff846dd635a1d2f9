// CONTRIBUTING.md's commands and paths must keep working: every `pnpm` script it runs exists, every package it filters
// on exists, every file it names (a test file, a script, a source file) is there.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryRoot } from '@video-llava/test-utils';
import { describe, expect, it } from 'vitest';
import { listWorkspacePackages } from './workspace.js';

const text = readFileSync(join(repositoryRoot, 'CONTRIBUTING.md'), 'utf8');
const rootScripts = JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8')).scripts as Record<
  string,
  string
>;
const packages = new Map(listWorkspacePackages().map((item) => [item.name, item]));
// pnpm's own commands that CONTRIBUTING.md uses (not scripts of the root package.json).
const PNPM_COMMANDS = new Set(['install', 'exec']);

/** The command lines of the ```sh blocks, without their comments. */
const commands = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((block) =>
  block[1]!
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== ''),
);

describe('CONTRIBUTING.md', () => {
  it('has commands to check', () => {
    expect(commands.length).toBeGreaterThan(10);
  });

  it.each(commands.filter((line) => /^pnpm /.test(line)))('%s runs a script, package and file that exist', (line) => {
    const words = line.split(/\s+/);
    if (words[1] === '--filter') {
      const item = packages.get(words[2]!);
      expect(item, `package ${words[2]}`).toBeDefined();
      if (words[3] === 'exec' && words[4] === 'vitest' && words[5] === 'run') {
        expect(existsSync(join(repositoryRoot, item!.folder, words[6]!)), `${item!.folder}/${words[6]}`).toBe(true);
      } else if (words[3] !== 'exec') {
        expect(
          item!.json.scripts?.[words[3]!] !== undefined || words[3] === 'pack',
          `${words[2]} script ${words[3]}`,
        ).toBe(true);
      }
      return;
    }
    expect(PNPM_COMMANDS.has(words[1]!) || words[1]! in rootScripts, `root script ${words[1]}`).toBe(true);
  });

  it('names only files that exist', () => {
    const paths = [...text.matchAll(/`((?:packages|apps|tooling|bench|fixtures)\/[^`\s]+)`|\bbash ([^`\s]+)/g)]
      .map((match) => match[1] ?? match[2]!)
      .filter((path) => !/[*<]/.test(path)); // patterns such as apps/* or packages/runtime-<name>
    expect(paths.length).toBeGreaterThan(5);
    expect(paths.filter((path) => !existsSync(join(repositoryRoot, path)))).toEqual([]);
  });
});

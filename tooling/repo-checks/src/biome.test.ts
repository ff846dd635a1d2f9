// The format and lint check's own tests: the repository's biome.json and the exact command of `pnpm lint:biome`,
// run on a small git repository seeded with a format error, a lint error, or code in the house style.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { repositoryRoot, temporaryFolders } from '@video-llava/test-utils';
import { afterAll, describe, expect, it } from 'vitest';

const biome = join(dirname(createRequire(import.meta.url).resolve('@biomejs/biome/package.json')), 'bin', 'biome');
const script: string = JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8')).scripts['lint:biome'];
const folders = temporaryFolders('repo-checks-biome-');
afterAll(() => folders.removeAll());

/** Code as the formatter writes it, using the idioms the configuration allows (`!`, `json['snake_case']`). */
const CLEAN = `import { readFile } from 'node:fs/promises';

/** The first id of a list. */
export function firstId(ids: readonly number[]): number {
  return ids[0]!;
}

export async function tokenIndex(file: string): Promise<number> {
  const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  return Number(json['image_token_index']);
}
`;

async function check(files: Record<string, string>): Promise<{ status: number | null; output: string }> {
  const root = await folders.folder();
  expect(spawnSync('git', ['init', '-q'], { cwd: root }).status).toBe(0);
  copyFileSync(join(repositoryRoot, 'biome.json'), join(root, 'biome.json'));
  copyFileSync(join(repositoryRoot, '.gitignore'), join(root, '.gitignore'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  expect(script).toMatch(/^biome ci /);
  const result = spawnSync(process.execPath, [biome, ...script.split(' ').slice(1), '--colors=off'], {
    cwd: root,
    encoding: 'utf8',
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('pnpm lint:biome (biome.json)', () => {
  it('passes on code in the house style', async () => {
    const result = await check({ 'src/clean.ts': CLEAN });
    expect(result.output).toContain('Checked 2 files');
    expect(result.status, result.output).toBe(0);
  });

  it('fails on a seeded format error (double quotes, a line over 120 characters), naming the file', async () => {
    const long = `export const message = '${'x'.repeat(100)}' + String(1 + 2 + 3 + 4);\n`;
    const quotes = await check({ 'src/clean.ts': CLEAN, 'src/quotes.ts': 'export const name = "video";\n' });
    expect(quotes.status).not.toBe(0);
    expect(quotes.output).toMatch(/src\/quotes\.ts format/);
    const width = await check({ 'src/long.ts': long });
    expect(width.status).not.toBe(0);
    expect(width.output).toMatch(/src\/long\.ts format/);
  });

  it('fails on a seeded lint error, naming the rule', async () => {
    const result = await check({ 'src/equals.ts': "export const same = (a: unknown) => a == 'x';\n" });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('lint/suspicious/noDoubleEquals');
  });

  it('fails on a warning too (an unused variable)', async () => {
    const result = await check({
      'src/unused.ts': 'export function f(): number {\n  const unused = 1;\n  return 2;\n}\n',
    });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('lint/correctness/noUnusedVariables');
  });

  it('skips what git ignores (dist/) and the reference fixtures', async () => {
    const result = await check({
      'src/clean.ts': CLEAN,
      'dist/built.js': 'var  x = "y"\n',
      'fixtures/tiny/config.json': '{"a":1}',
    });
    expect(result.status, result.output).toBe(0);
  });
});

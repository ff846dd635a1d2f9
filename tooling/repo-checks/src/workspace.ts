import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repositoryRoot } from '@video-llava/test-utils';

/** An exports map target: a path, or conditions (`@video-llava/source`, `types`, `default`, ...) to paths. */
export type ExportTarget = string | Record<string, string>;

/** The fields of a package.json that the checks read (the rest stays `unknown`). */
export interface PackageJson {
  name: string;
  private?: boolean;
  type?: string;
  license?: string;
  sideEffects?: boolean;
  files?: string[];
  engines?: Record<string, string>;
  scripts?: Record<string, string>;
  exports?: Record<string, ExportTarget>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [field: string]: unknown;
}

export interface WorkspacePackage {
  folder: string;
  name: string;
  json: PackageJson;
}

/** Every workspace package under packages/, apps/, tooling/ and bench/ of `root` (this repository by default). */
export function listWorkspacePackages(root: string = repositoryRoot): WorkspacePackage[] {
  const out: WorkspacePackage[] = [];
  for (const group of ['packages', 'apps', 'tooling']) {
    const groupDir = join(root, group);
    if (!existsSync(groupDir)) continue;
    for (const entry of readdirSync(groupDir)) {
      const file = join(groupDir, entry, 'package.json');
      if (existsSync(file))
        out.push({
          folder: `${group}/${entry}`,
          name: JSON.parse(readFileSync(file, 'utf8')).name,
          json: JSON.parse(readFileSync(file, 'utf8')),
        });
    }
  }
  const bench = join(root, 'bench', 'package.json');
  if (existsSync(bench))
    out.push({
      folder: 'bench',
      name: JSON.parse(readFileSync(bench, 'utf8')).name,
      json: JSON.parse(readFileSync(bench, 'utf8')),
    });
  return out;
}

/** The allowed imports of each packages/* folder, read from the table in ARCHITECTURE.md. */
export function readDependencyTable(): Map<string, string[]> {
  const text = readFileSync(join(repositoryRoot, 'ARCHITECTURE.md'), 'utf8');
  const rows = text.split('\n').filter((line) => line.startsWith('| packages/'));
  const folders = rows.map((row) => row.split('|')[1]!.trim());
  const table = new Map<string, string[]>();
  for (const row of rows) {
    const cells = row.split('|').map((cell) => cell.trim());
    const folder = cells[1]!;
    const mayImport = cells[4]!;
    let allowed: string[];
    if (mayImport === '-' || mayImport === '') allowed = [];
    else if (/all of the above/.test(mayImport)) allowed = folders.slice(0, folders.indexOf(folder));
    else allowed = mayImport.split(',').map((item) => `packages/${item.trim()}`);
    table.set(folder, allowed);
  }
  return table;
}

/** All .ts files under a folder (recursively), skipping node_modules and dist. */
export function listSourceFiles(folder: string): string[] {
  const out: string[] = [];
  const walk = (directory: string): void => {
    for (const entry of readdirSync(directory)) {
      if (entry === 'node_modules' || entry === 'dist') continue;
      const full = join(directory, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.(ts|tsx|mts)$/.test(entry) && !entry.endsWith('.d.ts')) out.push(full);
    }
  };
  if (existsSync(folder)) walk(folder);
  return out;
}

/** Module specifiers a file imports (static, dynamic and re-exports). */
export function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers: string[] = [];
  const patterns = [
    /\bfrom\s+['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /^\s*import\s+['"]([^'"]+)['"]/gm,
  ];
  for (const pattern of patterns) for (const match of text.matchAll(pattern)) specifiers.push(match[1]!);
  return specifiers;
}

/** Repository-relative path, for messages. */
export function show(path: string): string {
  return relative(repositoryRoot, path);
}

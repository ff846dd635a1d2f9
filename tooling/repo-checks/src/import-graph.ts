import { existsSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { type WorkspacePackage, listSourceFiles } from './workspace.js';

/** One module specifier a source file names. */
export interface SourceImport {
  specifier: string;
  /** `import type`, `export type`, `typeof import(...)`: erased from the JavaScript, so nothing loads at run time. */
  typeOnly: boolean;
}

/** Where a specifier leads: a source file of the workspace, a workspace entry without a TypeScript source, or outside. */
export type Resolved = { kind: 'file'; file: string } | { kind: 'external' };

/**
 * Which entries run only in Node (ARCHITECTURE.md): every `./node` subpath, all of `runtime-node`, and the main entry
 * of `video-llava` (browsers import `video-llava/web`). Nothing reachable from another entry may import them.
 */
export const NODE_ONLY_ENTRIES: ReadonlyMap<string, readonly string[] | 'all'> = new Map<
  string,
  readonly string[] | 'all'
>([
  ['@video-llava/runtime-node', 'all'],
  ['video-llava', ['.']],
  ['@video-llava/server', 'all'],
  ['@video-llava/worker', 'all'],
]);

/** npm packages that only run in Node (native addons, binaries). */
const NODE_ONLY_MODULES = [/^sharp(\/|$)/, /^onnxruntime-node(\/|$)/, /^@ffmpeg-installer\//, /^node-av(\/|$)/];

const BUILTINS = new Set(builtinModules.filter((name) => !name.startsWith('_')));

/** Whether an entry (`subpath` of the exports map, e.g. `.` or `./node`) of a package is Node-only by design. */
export function isNodeOnlyEntry(packageName: string, subpath: string): boolean {
  const listed = NODE_ONLY_ENTRIES.get(packageName);
  return subpath === './node' || subpath.endsWith('/node') || listed === 'all' || (listed?.includes(subpath) ?? false);
}

/** Why a bare specifier only works in Node (a built-in or a Node-only npm package), or `undefined`. */
export function nodeOnlyModule(specifier: string): string | undefined {
  if (specifier.startsWith('node:')) return 'a Node built-in';
  const first = specifier.split('/')[0]!;
  if (BUILTINS.has(specifier) || BUILTINS.has(first)) return 'a Node built-in';
  if (NODE_ONLY_MODULES.some((pattern) => pattern.test(specifier))) return 'a Node-only package';
  return undefined;
}

/** Every module specifier of a TypeScript source: static and dynamic imports, re-exports, `import x = require()`. */
export function parseImports(fileName: string, text: string): SourceImport[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: SourceImport[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named =
        clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      // `import { type A, type B } from` is as erased as `import type { A, B } from`.
      const allNamedTypes =
        clause !== undefined &&
        clause.name === undefined &&
        named !== undefined &&
        named.length > 0 &&
        named.every((element) => element.isTypeOnly);
      out.push({ specifier: node.moduleSpecifier.text, typeOnly: clause?.isTypeOnly === true || allNamedTypes });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      const allNamedTypes = named !== undefined && named.length > 0 && named.every((element) => element.isTypeOnly);
      out.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly || allNamedTypes });
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      out.push({ specifier: node.moduleReference.expression.text, typeOnly: node.isTypeOnly });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      out.push({ specifier: node.arguments[0].text, typeOnly: false });
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      out.push({ specifier: node.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

/** The source files of a workspace package: `src/` where it has one, else its folder (bench/). */
function sourceFilesOf(root: string, item: WorkspacePackage): string[] {
  const folder = join(root, item.folder);
  return listSourceFiles(existsSync(join(folder, 'src')) ? join(folder, 'src') : folder);
}

/**
 * The import graph of every TypeScript source file of a workspace: relative imports, and imports of workspace
 * packages followed through their exports map's `@video-llava/source` condition to the file they name.
 */
export class ImportGraph {
  readonly root: string;
  readonly packages: readonly WorkspacePackage[];
  readonly files: readonly string[];
  readonly #imports = new Map<string, SourceImport[]>();
  readonly #byName: Map<string, WorkspacePackage>;

  constructor(root: string, packages: readonly WorkspacePackage[]) {
    this.root = root;
    this.packages = packages;
    this.#byName = new Map(packages.map((item) => [item.name, item]));
    this.files = packages.flatMap((item) => sourceFilesOf(root, item)).sort();
  }

  /** Repository-relative path, for messages. */
  show(file: string): string {
    return relative(this.root, file);
  }

  importsOf(file: string): SourceImport[] {
    let imports = this.#imports.get(file);
    if (!imports) {
      imports = parseImports(file, readFileSync(file, 'utf8'));
      this.#imports.set(file, imports);
    }
    return imports;
  }

  /** The workspace package and exports subpath a bare specifier names (`@scope/name/sub` is `./sub`), if any. */
  workspaceEntry(specifier: string): { item: WorkspacePackage; subpath: string } | undefined {
    const parts = specifier.split('/');
    const nameLength = specifier.startsWith('@') ? 2 : 1;
    const item = this.#byName.get(parts.slice(0, nameLength).join('/'));
    if (!item) return undefined;
    const rest = parts.slice(nameLength).join('/');
    return { item, subpath: rest === '' ? '.' : `./${rest}` };
  }

  /** The file an import of `specifier` from `file` loads, when it is a TypeScript source of this workspace. */
  resolve(file: string, specifier: string): Resolved {
    if (specifier.startsWith('.')) {
      const target = resolve(dirname(file), specifier);
      const withoutJs = target.replace(/\.(m|c)?jsx?$/, (extension) => extension.replace('js', 'ts'));
      const found = [withoutJs, `${target}.ts`, `${target}.tsx`, join(target, 'index.ts')].find(
        (candidate) => /\.(m|c)?tsx?$/.test(candidate) && isFile(candidate),
      );
      return found ? { kind: 'file', file: found } : { kind: 'external' };
    }
    const entry = this.workspaceEntry(specifier);
    if (!entry) return { kind: 'external' };
    const target = entry.item.json.exports?.[entry.subpath];
    const path = typeof target === 'string' ? target : (target?.['@video-llava/source'] ?? target?.default);
    if (typeof path !== 'string' || !/\.(m|c)?tsx?$/.test(path)) return { kind: 'external' };
    const full = join(this.root, entry.item.folder, path);
    return isFile(full) ? { kind: 'file', file: full } : { kind: 'external' };
  }

  /** Each file's direct dependencies among the workspace's source files (type-only imports included). */
  edges(file: string): string[] {
    const out = new Set<string>();
    for (const { specifier } of this.importsOf(file)) {
      const resolved = this.resolve(file, specifier);
      if (resolved.kind === 'file') out.add(resolved.file);
    }
    return [...out];
  }
}

/**
 * Every import cycle between source files, one per strongly connected component of the graph, each written as a
 * path that returns to its start (`a.ts -> b.ts -> a.ts`). Type-only imports count: a cycle of types still ties two
 * files together so that neither can be read, moved or split on its own.
 */
export function findImportCycles(graph: ImportGraph): string[][] {
  // Tarjan's algorithm, iterative so that a long chain cannot overflow the stack.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const start of graph.files) {
    if (index.has(start)) continue;
    const work: Array<{ file: string; next: string[]; position: number }> = [];
    const open = (file: string): void => {
      index.set(file, counter);
      low.set(file, counter);
      counter++;
      stack.push(file);
      onStack.add(file);
      work.push({ file, next: graph.edges(file), position: 0 });
    };
    open(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      if (frame.position < frame.next.length) {
        const target = frame.next[frame.position++]!;
        if (!index.has(target)) open(target);
        else if (onStack.has(target)) low.set(frame.file, Math.min(low.get(frame.file)!, index.get(target)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.file, Math.min(low.get(parent.file)!, low.get(frame.file)!));
      if (low.get(frame.file) === index.get(frame.file)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.file);
        const selfLoop = component.length === 1 && graph.edges(frame.file).includes(frame.file);
        if (component.length > 1 || selfLoop) components.push(component);
      }
    }
  }
  return components.map((component) => cyclePath(graph, component));
}

/** A shortest path inside a component from its first file (in sorted order) back to itself. */
function cyclePath(graph: ImportGraph, component: string[]): string[] {
  const members = new Set(component);
  const start = [...component].sort()[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const target of graph.edges(file)) {
      if (!members.has(target)) continue;
      if (target === start) {
        const path = [start];
        for (let step: string | undefined = file; step !== undefined && step !== start; step = previous.get(step))
          path.unshift(step);
        path.unshift(start);
        return path.map((item) => graph.show(item));
      }
      if (!previous.has(target)) {
        previous.set(target, file);
        queue.push(target);
      }
    }
  }
  return component.map((item) => graph.show(item));
}

/** An entry of a package that must also run in a browser: its main entry and every other subpath but `./node`. */
export interface BrowserEntry {
  packageName: string;
  subpath: string;
  file: string;
}

/** The entries of the workspace's `packages/*` that must bundle for a browser (see {@link NODE_ONLY_ENTRIES}). */
export function browserEntries(graph: ImportGraph): BrowserEntry[] {
  const out: BrowserEntry[] = [];
  for (const item of graph.packages) {
    if (!item.folder.startsWith('packages/')) continue;
    for (const subpath of Object.keys(item.json.exports ?? {})) {
      if (subpath === './package.json' || isNodeOnlyEntry(item.name, subpath)) continue;
      const resolved = graph.resolve(
        join(graph.root, item.folder, 'package.json'),
        subpath === '.' ? item.name : `${item.name}/${subpath.slice(2)}`,
      );
      if (resolved.kind === 'file') out.push({ packageName: item.name, subpath, file: resolved.file });
    }
  }
  return out;
}

/**
 * What makes an entry Node-only: each import, reachable from `entry` through run-time imports (type-only imports are
 * erased and do not count), of a Node built-in, a Node-only npm package or a Node-only workspace entry. Each finding
 * names the chain of files that leads to it.
 */
export function findNodeOnlyImports(graph: ImportGraph, entry: string): string[] {
  const previous = new Map<string, string | undefined>([[entry, undefined]]);
  const queue = [entry];
  const findings: string[] = [];
  const chain = (file: string): string => {
    const path: string[] = [];
    for (let step: string | undefined = file; step !== undefined; step = previous.get(step))
      path.unshift(graph.show(step));
    return path.join(' -> ');
  };
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const { specifier, typeOnly } of graph.importsOf(file)) {
      if (typeOnly) continue;
      const why = specifier.startsWith('.') ? undefined : nodeOnlyModule(specifier);
      if (why) {
        findings.push(`${chain(file)} imports '${specifier}' (${why})`);
        continue;
      }
      const workspace = specifier.startsWith('.') ? undefined : graph.workspaceEntry(specifier);
      if (workspace && isNodeOnlyEntry(workspace.item.name, workspace.subpath)) {
        findings.push(`${chain(file)} imports '${specifier}' (a Node-only entry)`);
        continue;
      }
      const resolved = graph.resolve(file, specifier);
      if (resolved.kind === 'file' && !previous.has(resolved.file)) {
        previous.set(resolved.file, file);
        queue.push(resolved.file);
      }
    }
  }
  return findings;
}

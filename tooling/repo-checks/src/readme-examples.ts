import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { repositoryRoot } from '@video-llava/test-utils';
import ts from 'typescript';

/** First-line marker of a README block that is deliberately not standalone: `// not checked: <reason>`. */
export const OPT_OUT = /^\s*\/\/\s*not checked:\s*(\S.*)$/;

export interface ReadmeBlock {
  /** Repository-relative README path. */
  readme: string;
  /** 1-based line of the README on which the block's code starts (the line after the fence). */
  line: number;
  code: string;
  /** The reason given by the opt-out marker, when the block has one. */
  optOut?: string;
}

export interface BlockDiagnostic {
  block: ReadmeBlock;
  /** 1-based README line of the diagnostic. */
  line: number;
  message: string;
}

/** README.md, packages/<name>/README.md and apps/<name>/README.md, repository-relative. */
export function listReadmes(): string[] {
  const out = ['README.md'];
  for (const group of ['packages', 'apps']) {
    const groupDir = join(repositoryRoot, group);
    if (!existsSync(groupDir)) continue;
    for (const entry of readdirSync(groupDir).sort()) {
      if (existsSync(join(groupDir, entry, 'README.md'))) out.push(`${group}/${entry}/README.md`);
    }
  }
  return out.filter((path) => existsSync(join(repositoryRoot, path)));
}

/** Every ```ts / ```typescript block of a README (fences may be indented, e.g. inside a list). */
export function extractBlocks(readme: string, text: string): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = [];
  const lines = text.split(/\r?\n/);
  let open: { fence: string; indent: number; start: number; lines: string[] } | undefined;
  let other: string | undefined; // the fence of an open block in another language
  lines.forEach((line, index) => {
    if (open) {
      if (line.trim().startsWith(open.fence) && line.trim().replace(/`+|~+/, '') === '') {
        const code = open.lines.join('\n');
        const optOut = OPT_OUT.exec(open.lines[0] ?? '')?.[1];
        blocks.push({ readme, line: open.start, code, ...(optOut === undefined ? {} : { optOut }) });
        open = undefined;
      } else open.lines.push(line.slice(Math.min(open.indent, line.length - line.trimStart().length)));
      return;
    }
    const fence = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/.exec(line);
    if (!fence) return;
    if (other !== undefined) {
      if (fence[2]!.startsWith(other) && fence[3] === '') other = undefined;
      return;
    }
    if (fence[3] === 'ts' || fence[3] === 'typescript')
      open = { fence: fence[2]!, indent: fence[1]!.length, start: index + 2, lines: [] };
    else other = fence[2]!;
  });
  return blocks;
}

export function readAllBlocks(): ReadmeBlock[] {
  return listReadmes().flatMap((readme) => extractBlocks(readme, readFileSync(join(repositoryRoot, readme), 'utf8')));
}

/**
 * Type-checks the blocks in one program, as a reader's project would: the workspace's shared compiler options
 * (tooling/tsconfig/base.json, strict), Node and DOM types both, every block a module of its own (so top-level
 * await works), workspace packages resolved to their sources through the `@video-llava/source` condition.
 */
export function typeCheckBlocks(blocks: readonly ReadmeBlock[]): BlockDiagnostic[] {
  const here = join(repositoryRoot, 'tooling', 'repo-checks');
  const require = createRequire(join(here, 'package.json'));
  const basePath = require.resolve('@video-llava/tsconfig/base.json');
  const base = ts.parseJsonConfigFileContent(
    ts.readConfigFile(basePath, ts.sys.readFile).config,
    ts.sys,
    dirname(basePath),
  );
  const options: ts.CompilerOptions = {
    ...base.options,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts', 'lib.dom.asynciterable.d.ts'],
    types: ['node'],
    typeRoots: [join(here, 'node_modules', '@types')],
    moduleDetection: ts.ModuleDetectionKind.Force,
    noEmit: true,
    declaration: false,
    sourceMap: false,
    noUnusedLocals: false,
    noUnusedParameters: false,
  };
  const files = new Map<string, ReadmeBlock>();
  blocks.forEach((block, index) =>
    files.set(join(here, '.readme-examples', `${block.readme.replace(/[/.]/g, '_')}_${block.line}_${index}.ts`), block),
  );
  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const block = files.get(fileName);
    if (block) return ts.createSourceFile(fileName, block.code, languageVersion, true);
    return getSourceFile(fileName, languageVersion, onError, shouldCreate);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => files.has(fileName) || fileExists(fileName);
  const readFile = host.readFile.bind(host);
  host.readFile = (fileName) => files.get(fileName)?.code ?? readFile(fileName);
  const program = ts.createProgram({ rootNames: [...files.keys()], options, host });
  const out: BlockDiagnostic[] = [];
  const global = program.getGlobalDiagnostics().concat(program.getOptionsDiagnostics());
  for (const diagnostic of global)
    out.push({
      block: blocks[0]!,
      line: 0,
      message: `(program) ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`,
    });
  for (const [fileName, block] of files) {
    const sourceFile = program.getSourceFile(fileName)!;
    for (const diagnostic of [
      ...program.getSyntacticDiagnostics(sourceFile),
      ...program.getSemanticDiagnostics(sourceFile),
    ]) {
      const line = diagnostic.start === undefined ? 0 : sourceFile.getLineAndCharacterOfPosition(diagnostic.start).line;
      out.push({
        block,
        line: block.line + line,
        message: `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`,
      });
    }
  }
  return out;
}

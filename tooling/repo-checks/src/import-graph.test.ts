// The import checks' own tests: small workspaces seeded with a cycle or a Node built-in must fail them, the same
// workspaces without the seed must pass.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { temporaryFolders } from '@video-llava/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ImportGraph,
  browserEntries,
  findImportCycles,
  findNodeOnlyImports,
  nodeOnlyModule,
  parseImports,
} from './import-graph.js';
import { listWorkspacePackages } from './workspace.js';

const folders = temporaryFolders('repo-checks-imports-');
afterAll(() => folders.removeAll());

const exportsOf = (entries: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(entries).map(([subpath, file]) => [
      subpath,
      {
        '@video-llava/source': file,
        types: file.replace('src', 'dist').replace('.ts', '.d.ts'),
        default: file.replace('src', 'dist').replace('.ts', '.js'),
      },
    ]),
  );

/** A clean two-package workspace: `@fx/core` (main and `./node` entries) and `@fx/web`, which imports core. */
const CLEAN: Record<string, string> = {
  'packages/core/package.json': JSON.stringify({
    name: '@fx/core',
    exports: exportsOf({ '.': './src/index.ts', './node': './src/node.ts' }),
  }),
  'packages/core/src/index.ts': "export { a } from './a.js';\nexport type { Shape } from './shape.js';\n",
  'packages/core/src/a.ts': "import { b } from './b.js';\nexport const a = b + 1;\n",
  'packages/core/src/b.ts': 'export const b = 1;\n',
  'packages/core/src/shape.ts': 'export interface Shape { dims: number[] }\n',
  'packages/core/src/node.ts':
    "import { readFileSync } from 'node:fs';\nexport const read = (path: string) => readFileSync(path);\n",
  'packages/web/package.json': JSON.stringify({ name: '@fx/web', exports: exportsOf({ '.': './src/index.ts' }) }),
  'packages/web/src/index.ts':
    "import { a } from '@fx/core';\nimport { helper } from './helper.js';\nexport const web = a + helper;\n",
  'packages/web/src/helper.ts':
    "// A comment that mentions import { join } from 'node:path' is not an import.\nexport const helper = 2;\n",
  'packages/web/src/index.test.ts':
    "import { readFileSync } from 'node:fs';\nimport { web } from './index.js';\nreadFileSync; web;\n",
};

async function seed(changes: Record<string, string> = {}): Promise<ImportGraph> {
  const root = await folders.folder();
  for (const [path, text] of Object.entries({ ...CLEAN, ...changes })) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return new ImportGraph(root, listWorkspacePackages(root));
}

function nodeOnlyFindings(graph: ImportGraph): string[] {
  return browserEntries(graph).flatMap((entry) => findNodeOnlyImports(graph, entry.file));
}

describe('parseImports', () => {
  it('reads static, dynamic, re-export and require imports, and tells which are type-only', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from './b.js';",
      "import { type C, type D } from './c.js';",
      "import { type E, f } from './e.js';",
      "export { g } from './g.js';",
      "export type { H } from './h.js';",
      "import './side-effect.js';",
      "const lazy = () => import('./lazy.js');",
      "type T = typeof import('./typeof.js');",
      "import fs = require('fs');",
      "/* import { x } from './in-a-comment.js'; */",
      'const text = "import { y } from \'./in-a-string.js\'";',
    ].join('\n');
    expect(parseImports('x.ts', text)).toEqual([
      { specifier: './a.js', typeOnly: false },
      { specifier: './b.js', typeOnly: true },
      { specifier: './c.js', typeOnly: true },
      { specifier: './e.js', typeOnly: false },
      { specifier: './g.js', typeOnly: false },
      { specifier: './h.js', typeOnly: true },
      { specifier: './side-effect.js', typeOnly: false },
      { specifier: './lazy.js', typeOnly: false },
      { specifier: './typeof.js', typeOnly: true },
      { specifier: 'fs', typeOnly: false },
    ]);
  });

  it('knows Node built-ins (prefixed, bare, with a subpath) and Node-only packages from the rest', () => {
    expect(
      [
        'node:fs',
        'fs',
        'fs/promises',
        'path',
        'worker_threads',
        'sharp',
        'onnxruntime-node',
        '@ffmpeg-installer/ffmpeg',
      ].map(nodeOnlyModule),
    ).not.toContain(undefined);
    expect(
      ['onnxruntime-web', '@huggingface/tokenizers', 'fsx', 'paths', '@video-llava/core'].map(nodeOnlyModule),
    ).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });
});

describe('the import checks on a seeded workspace', () => {
  it('pass on the clean workspace, which they do read (both entries, every file)', async () => {
    const graph = await seed();
    expect(graph.files.map((file) => graph.show(file))).toHaveLength(8);
    expect(browserEntries(graph).map((entry) => `${entry.packageName} ${entry.subpath}`)).toEqual([
      '@fx/core .',
      '@fx/web .',
    ]);
    expect(findImportCycles(graph)).toEqual([]);
    expect(nodeOnlyFindings(graph)).toEqual([]);
  });

  it('fail on a seeded cycle between two files, type-only or not, naming the path', async () => {
    const graph = await seed({
      'packages/core/src/b.ts': "import type { Shape } from './shape.js';\nexport const b = 1;\n",
      'packages/core/src/shape.ts':
        "import type { b } from './b.js';\nexport interface Shape { dims: number[]; b: typeof b }\n",
    });
    expect(findImportCycles(graph)).toEqual([
      ['packages/core/src/b.ts', 'packages/core/src/shape.ts', 'packages/core/src/b.ts'],
    ]);
  });

  it('fail on a seeded cycle of three files and on a file that imports itself', async () => {
    const graph = await seed({
      'packages/core/src/b.ts':
        "import type { Shape } from './shape.js';\nexport const b = 1;\nexport type Shapes = Shape[];\n",
      'packages/core/src/shape.ts':
        "import { a } from './a.js';\nexport interface Shape { dims: number[] }\nexport const first = a;\n",
      'packages/web/src/helper.ts': "import { helper as self } from './helper.js';\nexport const helper = 2;\nself;\n",
    });
    expect(findImportCycles(graph).sort()).toEqual([
      ['packages/core/src/a.ts', 'packages/core/src/b.ts', 'packages/core/src/shape.ts', 'packages/core/src/a.ts'],
      ['packages/web/src/helper.ts', 'packages/web/src/helper.ts'],
    ]);
  });

  it('fail on a cycle across packages, followed through the exports map', async () => {
    const graph = await seed({ 'packages/core/src/b.ts': "import { web } from '@fx/web';\nexport const b = web;\n" });
    const cycles = findImportCycles(graph);
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toEqual([
      'packages/core/src/a.ts',
      'packages/core/src/b.ts',
      'packages/web/src/index.ts',
      'packages/core/src/index.ts',
      'packages/core/src/a.ts',
    ]);
  });

  it('fail on a seeded Node built-in reached from a browser entry, naming the chain of files', async () => {
    const graph = await seed({
      'packages/web/src/helper.ts': "import { sep } from 'path';\nexport const helper = sep.length;\n",
    });
    expect(nodeOnlyFindings(graph)).toEqual([
      "packages/web/src/index.ts -> packages/web/src/helper.ts imports 'path' (a Node built-in)",
    ]);
  });

  it('fail on a Node built-in reached through another package and on a dynamic import of one', async () => {
    const graph = await seed({
      'packages/core/src/b.ts': "export const b = 1;\nexport const load = () => import('node:fs/promises');\n",
    });
    expect(nodeOnlyFindings(graph)).toEqual([
      "packages/core/src/index.ts -> packages/core/src/a.ts -> packages/core/src/b.ts imports 'node:fs/promises' (a Node built-in)",
      "packages/web/src/index.ts -> packages/core/src/index.ts -> packages/core/src/a.ts -> packages/core/src/b.ts imports 'node:fs/promises' (a Node built-in)",
    ]);
  });

  it("fail on a browser entry that imports another package's ./node entry", async () => {
    const graph = await seed({
      'packages/web/src/helper.ts': "import { read } from '@fx/core/node';\nexport const helper = read.length;\n",
    });
    expect(nodeOnlyFindings(graph)).toEqual([
      "packages/web/src/index.ts -> packages/web/src/helper.ts imports '@fx/core/node' (a Node-only entry)",
    ]);
  });

  it('pass on a type-only import of a Node built-in (erased from the bundle)', async () => {
    const graph = await seed({
      'packages/web/src/helper.ts':
        "import type { Readable } from 'node:stream';\nexport const helper = 2;\nexport type Source = Readable;\n",
    });
    expect(nodeOnlyFindings(graph)).toEqual([]);
  });
});

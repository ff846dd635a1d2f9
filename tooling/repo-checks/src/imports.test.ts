import { repositoryRoot } from '@video-llava/test-utils';
import { describe, expect, it } from 'vitest';
import { ImportGraph, browserEntries, findImportCycles, findNodeOnlyImports } from './import-graph.js';
import { listWorkspacePackages } from './workspace.js';

const graph = new ImportGraph(repositoryRoot, listWorkspacePackages());

describe('imports between source files', () => {
  it('form no cycle (within a package or across packages; type-only imports count)', () => {
    expect(graph.files.length).toBeGreaterThan(100);
    const cycles = findImportCycles(graph).map((path) => path.join(' -> '));
    expect(
      cycles,
      'break each cycle: move what both files share into a file of its own, or let one side take an interface',
    ).toEqual([]);
  });
});

const entries = browserEntries(graph);

describe('browser entries (every entry of packages/* but ./node, runtime-node and the main entry of video-llava)', () => {
  it('are found', () => {
    expect(
      entries.map((entry) => `${entry.packageName}${entry.subpath === '.' ? '' : entry.subpath.slice(1)}`),
    ).toEqual(expect.arrayContaining(['@video-llava/core', '@video-llava/image-processor/browser', 'video-llava/web']));
  });

  it.each(entries.map((entry) => [`${entry.packageName} ${entry.subpath}`, entry] as const))(
    '%s reaches no Node built-in or Node-only module',
    (_, entry) => {
      expect(
        findNodeOnlyImports(graph, entry.file),
        'Node-only code belongs behind a ./node entry (ARCHITECTURE.md)',
      ).toEqual([]);
    },
  );
});

import { describe, expect, it } from 'vitest';
import { extractBlocks, readAllBlocks, typeCheckBlocks } from './readme-examples.js';

const blocks = readAllBlocks();
const checked = blocks.filter((block) => block.optOut === undefined);

// A README the check must fail, type-checked in the same program as the real ones: proves the packages resolve
// to their real types (not `any`) and that a failure names the README line.
const canary = extractBlocks(
  'canary/README.md',
  [
    '# Canary',
    '',
    '```sh',
    'npm install video-llava',
    '```',
    '',
    '```ts',
    "import { VideoLlava } from 'video-llava';",
    '',
    "const model = await VideoLlava.load('x');",
    'model.streem({});',
    '```',
    '',
  ].join('\n'),
);

describe('README examples', () => {
  it('finds the ```ts blocks of README.md and of every package README', () => {
    expect(checked.length).toBeGreaterThan(10);
    expect(canary.map((block) => block.line)).toEqual([8]);
  });

  it('reads the opt-out marker and its reason', () => {
    const [block] = extractBlocks(
      'x/README.md',
      '```typescript\n// not checked: continues the block above\nsession.run(feeds);\n```\n',
    );
    expect(block?.optOut).toBe('continues the block above');
  });

  it('keeps opt-outs (a first line `// not checked: <reason>`) few', () => {
    const optOuts = blocks
      .filter((block) => block.optOut !== undefined)
      .map((block) => `${block.readme}:${block.line}: ${block.optOut}`);
    expect(optOuts.length, `opt-outs:\n${optOuts.join('\n')}`).toBeLessThanOrEqual(3);
  });

  it('type-check against the workspace packages', () => {
    const diagnostics = typeCheckBlocks([...checked, ...canary]);
    const canaryFailures = diagnostics.filter((item) => item.block.readme === 'canary/README.md');
    expect(canaryFailures.map((item) => `${item.block.readme}:${item.line}`)).toEqual(['canary/README.md:11']);
    expect(canaryFailures[0]?.message).toMatch(/streem/);
    const failures = diagnostics
      .filter((item) => !canaryFailures.includes(item))
      .map((item) => `${item.block.readme}:${item.line}: ${item.message}`);
    expect(failures, `README examples that do not compile:\n${failures.join('\n')}`).toEqual([]);
  }, 60_000);
});

import { join } from 'node:path';
import { repositoryRoot, tinyFixture } from '@video-llava/test-utils';
import { describe, expect, it } from 'vitest';
import { runCliForTest } from '../run-cli-for-test.js';

interface TokenizerReference {
  text: string;
  ids: number[];
  ids_no_special: number[];
  tokens: string[];
  decoded: string;
  decoded_skip_special: string;
}

const references = tinyFixture.json<TokenizerReference[]>('tokenizer_public.json');
const prompt = references.find(
  (reference) => reference.text.includes('<video>') && reference.text.startsWith('USER:'),
)!;

describe('video-llava tokenize', () => {
  it('--json prints ids, tokens and both decodings exactly as the reference', async () => {
    const run = await runCliForTest(['tokenize', 'fixtures/video-llava-tiny/model', '--text', prompt.text, '--json'], {
      cwd: repositoryRoot,
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toEqual({
      ids: prompt.ids,
      tokens: prompt.tokens,
      decoded: prompt.decoded,
      decodedSkipSpecial: prompt.decoded_skip_special,
    });
    expect(run.err).toBe('');
  });

  it('--no-special leaves out the BOS token', async () => {
    const run = await runCliForTest(['tokenize', tinyFixture.model, '--text', prompt.text, '--no-special', '--json'], {
      cwd: repositoryRoot,
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out).ids).toEqual(prompt.ids_no_special);
  });

  it('prints a readable summary by default, with whitespace made visible', async () => {
    const run = await runCliForTest(['tokenize', tinyFixture.model, '--text', prompt.text], { cwd: repositoryRoot });
    expect(run.code).toBe(0);
    expect(run.out).toContain(`ids (${prompt.ids.length}): ${prompt.ids.join(' ')}`);
    expect(run.out).toContain(`tokens: ${prompt.tokens.map((token) => JSON.stringify(token)).join(' ')}`);
    expect(run.out).toContain(`decoded: ${JSON.stringify(prompt.decoded)}`);
    expect(run.out).toContain(`decoded without special tokens: ${JSON.stringify(prompt.decoded_skip_special)}`);
  });

  it('without --text or a model it is a usage error (exit 2)', async () => {
    const noText = await runCliForTest(['tokenize', tinyFixture.model], { cwd: repositoryRoot });
    expect(noText).toMatchObject({ code: 2, out: '' });
    expect(noText.err).toContain('missing --text');
    expect(noText.err).toContain('Usage: video-llava tokenize');
    expect((await runCliForTest(['tokenize', '--text', 'hi'], { cwd: repositoryRoot })).code).toBe(2);
  });

  it('a folder without tokenizer.json exits 1 naming the file', async () => {
    const run = await runCliForTest(['tokenize', tinyFixture.images, '--text', 'hi'], { cwd: repositoryRoot });
    expect(run.code).toBe(1);
    expect(run.err).toContain(join(tinyFixture.images, 'tokenizer.json'));
    expect(run.out).toBe('');
  });
});

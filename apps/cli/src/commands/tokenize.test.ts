import { join } from 'node:path';
import { repositoryRoot, tinyFixture } from '@video-llava/test-utils';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { createTestIo } from '../test-io.js';

interface TokenizerReference {
  text: string;
  ids: number[];
  ids_no_special: number[];
  tokens: string[];
  decoded: string;
  decoded_skip_special: string;
}

const references = tinyFixture.json<TokenizerReference[]>('tokenizer_public.json');
const prompt = references.find((reference) => reference.text.includes('<video>') && reference.text.startsWith('USER:'))!;

describe('video-llava tokenize', () => {
  it('--json prints ids, tokens and both decodings exactly as the reference', async () => {
    const io = createTestIo(repositoryRoot);
    expect(await runCli(['tokenize', 'fixtures/video-llava-tiny/model', '--text', prompt.text, '--json'], io)).toBe(0);
    expect(JSON.parse(io.out())).toEqual({ ids: prompt.ids, tokens: prompt.tokens, decoded: prompt.decoded, decodedSkipSpecial: prompt.decoded_skip_special });
    expect(io.err()).toBe('');
  });

  it('--no-special leaves out the BOS token', async () => {
    const io = createTestIo(repositoryRoot);
    expect(await runCli(['tokenize', tinyFixture.model, '--text', prompt.text, '--no-special', '--json'], io)).toBe(0);
    expect(JSON.parse(io.out()).ids).toEqual(prompt.ids_no_special);
  });

  it('prints a readable summary by default, with whitespace made visible', async () => {
    const io = createTestIo(repositoryRoot);
    expect(await runCli(['tokenize', tinyFixture.model, '--text', prompt.text], io)).toBe(0);
    expect(io.out()).toContain(`ids (${prompt.ids.length}): ${prompt.ids.join(' ')}`);
    expect(io.out()).toContain(`tokens: ${prompt.tokens.map((token) => JSON.stringify(token)).join(' ')}`);
    expect(io.out()).toContain(`decoded: ${JSON.stringify(prompt.decoded)}`);
    expect(io.out()).toContain(`decoded without special tokens: ${JSON.stringify(prompt.decoded_skip_special)}`);
  });

  it('without --text or a model it is a usage error (exit 2)', async () => {
    const io = createTestIo(repositoryRoot);
    expect(await runCli(['tokenize', tinyFixture.model], io)).toBe(2);
    expect(io.err()).toContain('missing --text');
    expect(io.err()).toContain('Usage: video-llava tokenize');
    const bare = createTestIo(repositoryRoot);
    expect(await runCli(['tokenize', '--text', 'hi'], bare)).toBe(2);
  });

  it('a folder without tokenizer.json exits 1 naming the file', async () => {
    const io = createTestIo(repositoryRoot);
    expect(await runCli(['tokenize', tinyFixture.images, '--text', 'hi'], io)).toBe(1);
    expect(io.err()).toContain(join(tinyFixture.images, 'tokenizer.json'));
    expect(io.out()).toBe('');
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { catchError } from '../test/catch-error.js';
import { type HubTestServer, startHubTestServer, tinyFixture } from '@video-llava/test-utils';
import { parseHubId } from './hub-id.js';
import { HubSource } from './hub-source.js';
import { loadPretrainedConfig } from './load.js';

const tinyFiles = Object.fromEntries(
  ['config.json', 'generation_config.json', 'processor_config.json'].map((name) => [
    name,
    readFileSync(join(tinyFixture.model, name)),
  ]),
);
const commit = '0123456789abcdef0123456789abcdef01234567';

describe('HubSource (no disk cache)', () => {
  let server: HubTestServer;
  beforeEach(async () => {
    server = await startHubTestServer({ repo: 'tiny-org/video-llava-tiny', commit, files: { ...tinyFiles } });
  });
  afterEach(async () => {
    await server.close();
  });

  it('loads from {endpoint}/{repo}/resolve/{revision}/{path} with an endpoint override', async () => {
    const source = new HubSource('tiny-org/video-llava-tiny', { endpoint: server.url, env: {} });
    const config = await loadPretrainedConfig(source);
    expect([config.derived.tokensPerImage, config.derived.tokensPerFrame, config.derived.tokensPerVideo]).toEqual([
      256, 257, 2056,
    ]);
    expect(server.requests[0]!.path).toBe('/tiny-org/video-llava-tiny/resolve/main/config.json');
    expect(source.fileUrl('onnx/decoder model.onnx')).toBe(
      `${server.url}/tiny-org/video-llava-tiny/resolve/main/onnx/decoder%20model.onnx`,
    );
  });

  it('reads HF_ENDPOINT and HF_TOKEN, and sends the token as a bearer header', async () => {
    server.options.requiredToken = 'hf_test_token';
    const source = new HubSource(`tiny-org/video-llava-tiny@${commit}`, {
      env: { HF_ENDPOINT: `${server.url}/`, HF_TOKEN: 'hf_test_token' },
    });
    expect(source.revision).toBe(commit);
    await loadPretrainedConfig(source);
    expect(server.requests.length).toBeGreaterThan(0);
    expect(server.requests.every((entry) => entry.authorization === 'Bearer hf_test_token')).toBe(true);
    expect(server.requests[0]!.path).toBe(`/tiny-org/video-llava-tiny/resolve/${commit}/config.json`);
  });

  it('options win over the environment; a refused token is DOWNLOAD_FAILED with a hint', async () => {
    server.options.requiredToken = 'right';
    const source = new HubSource('tiny-org/video-llava-tiny', {
      endpoint: server.url,
      token: 'wrong',
      env: { HF_ENDPOINT: 'http://127.0.0.1:9', HF_TOKEN: 'right' },
    });
    const error = await catchError(() => source.readText('config.json'));
    expect(error.code).toBe('DOWNLOAD_FAILED');
    expect(error.message).toContain(`${server.url}/tiny-org/video-llava-tiny/resolve/main/config.json`);
    expect(error.message).toContain('HTTP 401');
    expect(error.message).toContain('HF_TOKEN');
  });

  it('a file the repository lacks is FILE_NOT_FOUND naming the URL', async () => {
    const error = await catchError(() =>
      new HubSource('tiny-org/video-llava-tiny', { endpoint: server.url, env: {} }).readText('tokenizer.json'),
    );
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.message).toContain(`${server.url}/tiny-org/video-llava-tiny/resolve/main/tokenizer.json`);
    expect(error.message).toContain('Entry not found');
  });
});

describe('parseHubId', () => {
  it('splits org/name@revision', () => {
    expect(parseHubId('LanguageBind/Video-LLaVA-7B-hf')).toEqual({
      repo: 'LanguageBind/Video-LLaVA-7B-hf',
      revision: undefined,
    });
    expect(parseHubId('hf://org/name@refs/pr/1')).toEqual({ repo: 'org/name', revision: 'refs/pr/1' });
  });

  it('refuses malformed ids naming the argument', async () => {
    const error = await catchError(() => parseHubId('org/na--me'));
    expect([error.code, error.field]).toEqual(['INVALID_ARGUMENT', 'repo']);
    expect(error.message).toContain('org/na--me');
  });
});

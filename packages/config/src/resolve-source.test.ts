import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { catchError } from '../test/catch-error.js';
import { CachedHubSource } from './cached-hub-source.js';
import { DirectorySource } from './directory-source.js';
import { HttpSource } from './http-source.js';
import { loadPretrainedConfigFrom } from './node.js';
import { resolveSource } from './resolve-source.js';

describe('resolveSource', () => {
  let folder: string;
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'video-llava-resolve-'));
  });
  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('an http(s) URL is an HttpSource', () => {
    const source = resolveSource('https://example.com/models/tiny');
    expect(source).toBeInstanceOf(HttpSource);
    expect(source.description).toBe('https://example.com/models/tiny');
  });

  it('a hub id is a CachedHubSource with its revision, endpoint and cache from the environment', () => {
    const source = resolveSource('LanguageBind/Video-LLaVA-7B-hf@v1.0', {
      cwd: folder,
      env: { HF_ENDPOINT: 'http://127.0.0.1:1', HF_HUB_CACHE: join(folder, 'cache') },
    });
    expect(source).toBeInstanceOf(CachedHubSource);
    const hub = source as CachedHubSource;
    expect([hub.repo, hub.revision, hub.endpoint, hub.cacheDirectory]).toEqual([
      'LanguageBind/Video-LLaVA-7B-hf',
      'v1.0',
      'http://127.0.0.1:1',
      join(folder, 'cache'),
    ]);
    expect((resolveSource('hf://org/name', { cwd: folder, env: {} }) as CachedHubSource).revision).toBe('main');
  });

  it('an existing local folder wins over a hub id of the same spelling', async () => {
    await mkdir(join(folder, 'org', 'name'), { recursive: true });
    const source = resolveSource('org/name', { cwd: folder, env: {} });
    expect(source).toBeInstanceOf(DirectorySource);
    expect((source as DirectorySource).root).toBe(join(folder, 'org', 'name'));
  });

  it('a path that is no folder and no hub id is a folder whose first read names the missing folder', async () => {
    const missing = join(folder, 'no', 'such', 'model');
    expect(resolveSource(missing)).toBeInstanceOf(DirectorySource);
    expect(resolveSource('./org/name', { cwd: folder, env: {} })).toBeInstanceOf(DirectorySource);
    const error = await catchError(() => loadPretrainedConfigFrom(missing));
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.file).toBe(missing);
    expect(error.message).toContain(`${missing}: no such model folder`);
  });
});

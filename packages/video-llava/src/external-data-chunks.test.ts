import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelSource } from '@video-llava/config';
import { DirectorySource } from '@video-llava/config/node';
import { convertCheckpoint } from '@video-llava/converter/node';
import type { Tensor } from '@video-llava/core';
import { createWebBackend } from '@video-llava/runtime-web';
import { fixtureCases, tinyFixture } from '@video-llava/test-utils';
import { type StaticServer, startStaticServer } from '@video-llava/test-utils/chromium';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VideoLlava } from './index.js';

// The fixture converted with every part's weights in external data chunks of 256 KiB (x.onnx_data, x.onnx_data_1,
// ...), loaded every way a model folder reaches a backend: by path (onnxruntime-node memory-maps the chunks; runtime-web
// reads them), by URL (each chunk downloaded on its own) and from a source that only serves bytes (the model reads
// each chunk from the source). Each answers the reference's greedy tokens exactly.
const videoCase = fixtureCases().find((fixtureCase) => fixtureCase.name === 'video')!;
const expectedIds = Array.from(tinyFixture.npy('case_video', 'generated_ids.npy').data as BigInt64Array, Number);
const video = tinyFixture.npy('pixel_values_videos_sample.npy') as Tensor<'float32'>;

/** A source with neither local paths nor URLs (as a folder picked in a browser is): only bytes. */
function bytesOnly(folder: string, read: string[]): ModelSource {
  const inner = new DirectorySource(folder);
  return {
    description: `bytes of ${folder}`,
    exists: (path) => inner.exists(path),
    readBytes: (path, options) => {
      read.push(path);
      return inner.readBytes(path, options);
    },
    readText: (path, options) => inner.readText(path, options),
  };
}

let root: string;
let folder: string;
let server: StaticServer;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'video-llava-chunks-'));
  folder = join(root, 'chunked');
  await convertCheckpoint(tinyFixture.model, folder, { externalDataThreshold: 0, externalDataChunkBytes: 256 * 1024 });
  server = await startStaticServer({ folders: { '/model/': folder } });
}, 120_000);
afterAll(async () => {
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

async function answer(model: VideoLlava): Promise<number[]> {
  try {
    return (
      await model.generate({
        prompt: videoCase.text[0]!,
        videos: [video],
        maxNewTokens: expectedIds.length,
        doSample: false,
      })
    ).ids;
  } finally {
    await model.release();
  }
}

describe('a model whose external data is in chunks', () => {
  it('has several chunks per part', () => {
    const names = readdirSync(join(folder, 'onnx'));
    expect(names).toEqual(
      expect.arrayContaining([
        'decoder_model_merged.onnx_data',
        'decoder_model_merged.onnx_data_1',
        'decoder_model_merged.onnx_data_2',
        'embed_tokens.onnx_data',
      ]),
    );
  });

  it('loads by path on onnxruntime-node: the reference tokens', async () => {
    expect(await answer(await VideoLlava.load(folder, { sessionOptions: { threads: 1 } }))).toEqual(expectedIds);
  });

  it('loads by URL on onnxruntime-node, downloading each chunk once: the reference tokens', async () => {
    expect(await answer(await VideoLlava.load(server.url('/model/'), { sessionOptions: { threads: 1 } }))).toEqual(
      expectedIds,
    );
    const chunks = readdirSync(join(folder, 'onnx')).filter((name) =>
      name.startsWith('decoder_model_merged.onnx_data'),
    );
    for (const chunk of chunks) expect(server.requests.get(`/model/onnx/${chunk}`), chunk).toBe(1);
  });

  it('loads by path on onnxruntime-web (WebAssembly, in Node): the reference tokens', async () => {
    expect(
      await answer(
        await VideoLlava.load(folder, { backend: createWebBackend({ cache: false }), sessionOptions: { threads: 1 } }),
      ),
    ).toEqual(expectedIds);
  });

  it('loads from a source that serves only bytes, each chunk read from it: the reference tokens', async () => {
    const read: string[] = [];
    expect(await answer(await VideoLlava.load(bytesOnly(folder, read), { sessionOptions: { threads: 1 } }))).toEqual(
      expectedIds,
    );
    const chunks = readdirSync(join(folder, 'onnx')).filter((name) =>
      name.startsWith('decoder_model_merged.onnx_data'),
    );
    expect(read.filter((path) => path.startsWith('onnx/decoder_model_merged.onnx_data')).sort()).toEqual(
      chunks.map((name) => `onnx/${name}`).sort(),
    );
  });
});

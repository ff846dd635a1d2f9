import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureCases, tinyFixture } from '@video-llava/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { greedyGenerate, loadSessions, runCase } from '../../test/model-runner.js';
import { convertCheckpoint } from './convert-checkpoint.js';
import { ExternalDataFiles } from './external-data-files.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'converter-chunks-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('ExternalDataFiles', () => {
  it('fills a file up to the chunk size, then starts <name>_1, <name>_2; a tensor larger than a chunk gets a file of its own', async () => {
    const files = new ExternalDataFiles(root, 'm.onnx_data', { chunkBytes: 100, alignment: 16 });
    const placements = [40, 40, 10, 300, 5, 100].map((bytes) => files.place(bytes));
    expect(placements.map((placement) => placement.reference)).toEqual([
      { location: 'm.onnx_data', offset: 0, length: 40 },
      { location: 'm.onnx_data', offset: 48, length: 40 },
      // 88 rounds up to 96, and 96 + 10 > 100
      { location: 'm.onnx_data_1', offset: 0, length: 10 },
      { location: 'm.onnx_data_2', offset: 0, length: 300 },
      { location: 'm.onnx_data_3', offset: 0, length: 5 },
      // exactly the chunk size still fits a fresh file, not one with 5 bytes in it
      { location: 'm.onnx_data_4', offset: 0, length: 100 },
    ]);
    expect(() => files.checkComplete()).toThrow(/wrote 0 weight bytes to m.onnx_data but planned 88/);
    for (const { reference, padding } of placements) {
      await files.write(reference.location, new Uint8Array(padding));
      await files.write(reference.location, new Uint8Array(reference.length).fill(reference.length));
    }
    files.checkComplete();
    await files.close();
    expect((await files.files()).map((file) => [file.location, file.bytes])).toEqual([
      ['m.onnx_data', 88],
      ['m.onnx_data_1', 10],
      ['m.onnx_data_2', 300],
      ['m.onnx_data_3', 5],
      ['m.onnx_data_4', 100],
    ]);
    expect([...readFileSync(join(root, 'm.onnx_data_1'))]).toEqual(Array(10).fill(10));
  });

  it('refuses a chunk size that is not a positive integer, naming the option', () => {
    for (const chunkBytes of [0, -1, 1.5, Number.NaN]) {
      expect(() => new ExternalDataFiles(root, 'x.onnx_data', { chunkBytes })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'externalDataChunkBytes' }),
      );
    }
  });
});

describe('the fixture converted with external data in 256 KiB chunks', () => {
  const CHUNK = 256 * 1024;
  let output: string;
  beforeAll(async () => {
    output = join(root, 'chunked');
    await convertCheckpoint(tinyFixture.model, output, { externalDataThreshold: 0, externalDataChunkBytes: CHUNK });
  }, 120_000);

  it('writes <file>.onnx_data, <file>.onnx_data_1, ... in sequence, no file past the chunk size unless it is one tensor', () => {
    const names = readdirSync(join(output, 'onnx'));
    const largestTensor = 32064 * 64 * 4; // embed_tokens and lm_head of the fixture, float32
    for (const part of ['embed_tokens', 'image_encoder', 'video_encoder', 'decoder_model_merged']) {
      const chunks = names.filter((name) => name.startsWith(`${part}.onnx_data`));
      expect(chunks, part).toEqual(
        chunks.map((_, index) => (index === 0 ? `${part}.onnx_data` : `${part}.onnx_data_${index}`)),
      );
      for (const chunk of chunks) {
        const size = statSync(join(output, 'onnx', chunk)).size;
        expect(size === largestTensor || size <= CHUNK, `${chunk}: ${size} bytes`).toBe(true);
      }
    }
    expect(names.filter((name) => name.startsWith('decoder_model_merged.onnx_data')).length).toBeGreaterThan(2);
    expect(names.filter((name) => name.startsWith('video_encoder.onnx_data')).length).toBeGreaterThan(1);
  });

  it('runs in onnxruntime-node with the reference greedy tokens, exactly', async () => {
    const sessions = await loadSessions(output);
    try {
      for (const fixtureCase of fixtureCases().filter((candidate) => ['video', 'image'].includes(candidate.name))) {
        const run = await runCase(sessions, fixtureCase, false, 1);
        const expected = tinyFixture.npy(`case_${fixtureCase.name}`, 'generated_ids.npy');
        const generated = await greedyGenerate(sessions, run, expected.dims[1]!);
        expect(generated.flat(), fixtureCase.name).toEqual(Array.from(expected.data as BigInt64Array, Number));
      }
    } finally {
      await sessions.release();
    }
  });

  it('a part whose weights stay inside the .onnx file leaves no data files behind', async () => {
    const inline = join(root, 'inline');
    await convertCheckpoint(tinyFixture.model, inline, { externalDataChunkBytes: CHUNK, parts: ['video_encoder'] });
    expect(readdirSync(join(inline, 'onnx'))).toEqual(['video_encoder.onnx']);
  });
});

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repositoryRoot, startHubTestServer, tinyFixture } from '@video-llava/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliForTest } from '../run-cli-for-test.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'video-llava-cli-convert-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('video-llava convert', () => {
  it('--dtype q4 --json writes the complete model folder and prints the report; progress goes to stderr', async () => {
    const output = join(root, 'q4');
    const run = await runCliForTest(
      ['convert', 'fixtures/video-llava-tiny/model', output, '--dtype', 'q4', '--block-size', '16', '--json'],
      { cwd: repositoryRoot },
    );
    expect(run.code).toBe(0);
    const report = JSON.parse(run.out);
    expect(report.outputDirectory).toBe(output);
    expect(report.dtypes).toEqual(['q4']);
    const onnxFiles = [
      'decoder_kv_buffer_q4.onnx',
      'decoder_kv_int8_q4.onnx',
      'decoder_model_merged_q4.onnx',
      'embed_tokens_q4.onnx',
      'image_encoder_q4.onnx',
      'video_encoder_q4.onnx',
    ];
    expect(readdirSync(join(output, 'onnx')).sort()).toEqual(onnxFiles);
    expect(readdirSync(output).sort()).toEqual(
      readdirSync(tinyFixture.model)
        .filter((name) => name !== 'model.safetensors')
        .concat('onnx', 'video_llava_conversion.json')
        .sort(),
    );
    for (const file of report.files) expect(readFileSync(join(output, file.path)).byteLength).toBe(file.bytes);
    expect(
      report.files.find((file: { path: string }) => file.path === 'onnx/decoder_model_merged_q4.onnx').weightError
        .maxAbsError,
    ).toBeGreaterThan(0);
    // Standard ONNX ops unless --contrib-ops.
    expect(readFileSync(join(output, 'onnx', 'decoder_model_merged_q4.onnx')).includes('MultiHeadAttention')).toBe(
      false,
    );
    expect(run.err).toContain('100% of');
    expect(run.err).toContain('onnx/decoder_model_merged_q4.onnx');
  });

  it('prints a table of files, bytes and weight errors by default; several --dtype values add variants', async () => {
    const output = join(root, 'fp16-q8');
    const run = await runCliForTest(['convert', tinyFixture.model, output, '--dtype', 'fp16,q8', '--contrib-ops'], {
      cwd: repositoryRoot,
    });
    expect(run.code).toBe(0);
    expect(run.out).toContain(`-> ${output} (fp16, q8)`);
    expect(run.out).toMatch(/onnx\/decoder_model_merged_q8\.onnx\s+\S+ \S+\s+\d+/);
    expect(run.out).toContain('onnx/embed_tokens_fp16.onnx');
    // four parts per dtype, the key/value buffer decoder beside each decoder_model_merged, and the int8 cache decoder
    // beside the float32-computing one (q8; fp16 has none)
    expect(readdirSync(join(output, 'onnx'))).toHaveLength(11);
    expect(readdirSync(join(output, 'onnx'))).toContain('decoder_kv_int8_q8.onnx');
    // --contrib-ops: the q8 decoder uses ONNX Runtime's fused attention; fp16 keeps standard ops.
    expect(readFileSync(join(output, 'onnx', 'decoder_model_merged_q8.onnx')).includes('MultiHeadAttention')).toBe(
      true,
    );
    expect(readFileSync(join(output, 'onnx', 'decoder_model_merged_fp16.onnx')).includes('MultiHeadAttention')).toBe(
      false,
    );
  });

  it('usage errors exit 2: missing <out-dir>, an unknown --dtype', async () => {
    const missing = await runCliForTest(['convert', tinyFixture.model], { cwd: repositoryRoot });
    expect(missing).toMatchObject({ code: 2, out: '' });
    expect(missing.err).toContain('missing <out-dir>');
    expect(missing.err).toContain('Usage: video-llava convert');
    const dtype = await runCliForTest(['convert', tinyFixture.model, join(root, 'never'), '--dtype', 'int3'], {
      cwd: repositoryRoot,
    });
    expect(dtype.code).toBe(2);
    expect(dtype.err).toContain('fp32, fp16, q8, q4');
    expect(existsSync(join(root, 'never'))).toBe(false);
  });

  it('a bad checkpoint exits 1 naming the file, and writes no output folder', async () => {
    const checkpoint = join(root, 'bad-checkpoint');
    // A config copy without its weights.
    await mkdir(checkpoint);
    await writeFile(join(checkpoint, 'config.json'), readFileSync(join(tinyFixture.model, 'config.json')));
    const run = await runCliForTest(['convert', checkpoint, join(root, 'bad-out')], { cwd: repositoryRoot });
    expect(run.code).toBe(1);
    expect(run.err).toContain(`${checkpoint}: has neither model.safetensors nor model.safetensors.index.json`);
    expect(existsSync(join(root, 'bad-out'))).toBe(false);
  });

  it('a missing checkpoint folder is named as a missing folder', async () => {
    const run = await runCliForTest(['convert', './no-such-checkpoint', join(root, 'never-out')], { cwd: root });
    expect(run.code).toBe(1);
    expect(run.err).toBe(
      `video-llava convert: <checkpoint-dir> ./no-such-checkpoint: no such folder (${join(root, 'no-such-checkpoint')}). Give a model folder, a hub id (org/name) or a URL.\n`,
    );
    expect(existsSync(join(root, 'never-out'))).toBe(false);
  });

  it('`convert ./ck . --overwrite` refuses (the working folder holds the checkpoint) and deletes nothing', async () => {
    const working = join(root, 'working');
    await mkdir(join(working, 'ck'), { recursive: true });
    for (const name of readdirSync(tinyFixture.model))
      await writeFile(join(working, 'ck', name), readFileSync(join(tinyFixture.model, name)));
    await writeFile(join(working, 'notes.txt'), 'mine');
    const run = await runCliForTest(['convert', './ck', '.', '--overwrite'], { cwd: working });
    expect(run.code).toBe(1);
    expect(run.err).toContain(`The output folder ${working} contains the checkpoint folder ${join(working, 'ck')}`);
    expect(readdirSync(working).sort()).toEqual(['ck', 'notes.txt']);
    expect(readdirSync(join(working, 'ck')).sort()).toEqual(readdirSync(tinyFixture.model).sort());
  });

  it('accepts a hub id, downloading through HF_ENDPOINT into HF_HUB_CACHE', async () => {
    const commit = 'e'.repeat(40);
    const files = Object.fromEntries(
      readdirSync(tinyFixture.model).map((name) => [name, readFileSync(join(tinyFixture.model, name))]),
    );
    const hub = await startHubTestServer({ repo: 'tiny-org/tiny', commit, files });
    const cache = join(root, 'hub-cache');
    try {
      const run = await runCliForTest(['convert', 'tiny-org/tiny', 'from-hub', '--dtype', 'q8', '--json'], {
        cwd: root,
        env: { HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache },
      });
      expect(run.code).toBe(0);
      const report = JSON.parse(run.out);
      expect(report.source).toBe('tiny-org/tiny');
      expect(report.checkpointDirectory).toBe(join(cache, 'models--tiny-org--tiny', 'snapshots', commit));
      expect(readdirSync(join(root, 'from-hub', 'onnx'))).toContain('decoder_model_merged_q8.onnx');
      expect(readFileSync(join(root, 'from-hub', 'tokenizer.json')).equals(files['tokenizer.json']!)).toBe(true);
    } finally {
      await hub.close();
    }
  });
});

import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { VideoLlavaError } from '@video-llava/core';
import { temporaryFolders } from '@video-llava/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from './command.js';
import {
  chooseModelDtypes,
  modelLoadOptions,
  parseDtypeArgument,
  parseModelLoadFlags,
  parseThreadsArgument,
  prepackCacheOption,
} from './model-load-arguments.js';
import { listOnnxVariants } from './onnx-variants.js';

const usage = 'video-llava test <model>';
const folders = temporaryFolders('cli-model-load-');
afterAll(() => folders.removeAll());

/** A model folder whose onnx/ holds these files (`name: bytes`). */
async function modelFolder(files: Record<string, number>): Promise<string> {
  const folder = await folders.folder();
  await mkdir(join(folder, 'onnx'));
  for (const [name, size] of Object.entries(files)) await writeFile(join(folder, 'onnx', name), new Uint8Array(size));
  return folder;
}

const allParts = (suffix: string, size = 10): Record<string, number> =>
  Object.fromEntries(
    ['embed_tokens', 'image_encoder', 'video_encoder', 'decoder_model_merged'].map((part) => [
      `${part}${suffix}.onnx`,
      size,
    ]),
  );

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}

describe('--dtype', () => {
  it('takes one dtype for every part, per part with the short or the file names, or both', () => {
    expect(parseDtypeArgument('q4', usage)).toEqual({ rest: 'q4', parts: {} });
    expect(parseDtypeArgument('decoder=q4,vision=fp16', usage)).toEqual({
      parts: { decoder_model_merged: 'q4', image_encoder: 'fp16', video_encoder: 'fp16' },
    });
    expect(parseDtypeArgument('fp16, embed_tokens=q8', usage)).toEqual({ rest: 'fp16', parts: { embed_tokens: 'q8' } });
    expect(parseDtypeArgument('embed=q8,video_encoder=fp32', usage).parts).toEqual({
      embed_tokens: 'q8',
      video_encoder: 'fp32',
    });
  });

  it.each([
    ['q3', /the dtype must be one of fp32, fp16, q8, q4.*found "q3"/],
    ['decoder=q5', /the dtype of decoder must be one of .*found "q5"/],
    ['dec=q4', /"dec" is not a model part; the parts are decoder, vision, embed, embed_tokens/],
    ['q4,q8', /two dtypes for every part/],
    ['q4,', /an empty entry/],
    ['decoder=q4,decoder_model_merged=q8', /decoder_model_merged is given twice/],
  ])('refuses %s with a usage error naming what is wrong', (value, message) => {
    const error = thrown(() => parseDtypeArgument(value, usage));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
  });

  it('picks the one variant a folder holds of each part, and what --dtype names', async () => {
    const q4 = await modelFolder(allParts('_q4'));
    expect(chooseModelDtypes(q4, undefined)).toEqual({
      embed_tokens: 'q4',
      image_encoder: 'q4',
      video_encoder: 'q4',
      decoder_model_merged: 'q4',
    });
    const mixed = await modelFolder({ ...allParts(''), ...allParts('_q4') });
    expect(chooseModelDtypes(mixed, parseDtypeArgument('fp32,decoder=q4', usage))).toEqual({
      embed_tokens: 'fp32',
      image_encoder: 'fp32',
      video_encoder: 'fp32',
      decoder_model_merged: 'q4',
    });
  });

  it('lists the variants when the folder holds several and --dtype is not given', async () => {
    const mixed = await modelFolder({ ...allParts(''), ...allParts('_q4') });
    const error = thrown(() => chooseModelDtypes(mixed, undefined)) as VideoLlavaError;
    expect(VideoLlavaError.isInstance(error) && error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(
      /holds several variants of embed_tokens: fp32 \(embed_tokens\.onnx\), q4 \(embed_tokens_q4\.onnx\)\. Choose with --dtype/,
    );
    expect(error.field).toBe('--dtype');
  });

  it('names the missing variant and the ones held when --dtype asks for one the folder lacks', async () => {
    const q4 = await modelFolder(allParts('_q4'));
    const error = thrown(() => chooseModelDtypes(q4, parseDtypeArgument('decoder=q8', usage))) as VideoLlavaError;
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.message).toContain(
      'has no decoder_model_merged_q8.onnx; it holds q4 (decoder_model_merged_q4.onnx). Pass --dtype q4',
    );
  });

  it('leaves a folder without ONNX files to the library (it says to convert the checkpoint)', async () => {
    const raw = await folders.folder();
    expect(chooseModelDtypes(raw, parseDtypeArgument('q4', usage)).decoder_model_merged).toBe('q4');
    expect(chooseModelDtypes(raw, undefined).decoder_model_merged).toBe('fp32');
  });

  it('passes --dtype as given for a hub id or a URL, which cannot be listed', () => {
    const parsed = parseModelLoadFlags({ dtype: 'fp16,decoder=q4', threads: '3' }, usage);
    const io = { cwd: '/nonexistent-root', env: {}, stderr: { write: () => true } };
    const { backend, ...options } = modelLoadOptions('https://example.invalid/model', parsed, io);
    expect(backend.name).toBe('onnxruntime-node');
    expect(options).toEqual({
      dtype: { embed_tokens: 'fp16', image_encoder: 'fp16', video_encoder: 'fp16', decoder_model_merged: 'q4' },
      sessionOptions: { threads: 3 },
    });
    const { backend: _, ...defaults } = modelLoadOptions('org/name', parseModelLoadFlags({}, usage), io);
    expect(defaults).toEqual({ sessionOptions: { threads: availableParallelism() } });
  });

  it('--kv-cache int8 picks the int8 cache decoder; anything but float32 or int8 is refused', () => {
    const io = { cwd: '/nonexistent-root', env: {}, stderr: { write: () => true } };
    const { backend: _, ...options } = modelLoadOptions(
      'org/name',
      parseModelLoadFlags({ 'kv-cache': 'int8' }, usage),
      io,
    );
    expect(options).toEqual({ sessionOptions: { threads: availableParallelism() }, decoderCache: 'int8' });
    expect(parseModelLoadFlags({ 'kv-cache': 'float32' }, usage).kvCache).toBe('float32');
    expect(() => parseModelLoadFlags({ 'kv-cache': 'fp16' }, usage)).toThrow(
      '--kv-cache takes float32 or int8, found "fp16"',
    );
  });
});

describe('--prepack-cache', () => {
  const io = (env: Record<string, string>) => ({ cwd: '/work/here', env });
  const cacheOf = (flag: string | undefined, env: Record<string, string> = {}) =>
    prepackCacheOption(parseModelLoadFlags({ 'prepack-cache': flag }, usage), io(env));

  it('is off by default; on puts it beside the ONNX files; VIDEO_LLAVA_PREPACK_CACHE sets the default', () => {
    expect(cacheOf(undefined)).toBeUndefined();
    expect(cacheOf('on')).toBe(true);
    expect(cacheOf(undefined, { VIDEO_LLAVA_PREPACK_CACHE: 'cache' })).toBe(resolve('/work/here', 'cache'));
    expect(cacheOf(undefined, { VIDEO_LLAVA_PREPACK_CACHE: 'on' })).toBe(true);
    expect(cacheOf(undefined, { VIDEO_LLAVA_PREPACK_CACHE: 'off' })).toBeUndefined();
    expect(cacheOf(undefined, { VIDEO_LLAVA_PREPACK_CACHE: ' ' })).toBeUndefined();
  });

  it('takes a folder (relative to the working directory) or off, over the environment', () => {
    expect(cacheOf('/abs/cache', { VIDEO_LLAVA_PREPACK_CACHE: 'off' })).toBe('/abs/cache');
    expect(cacheOf('rel')).toBe(resolve('/work/here', 'rel'));
    expect(cacheOf('off', { VIDEO_LLAVA_PREPACK_CACHE: '/abs/cache' })).toBeUndefined();
  });

  it('refuses an empty value', () => {
    expect(() => parseModelLoadFlags({ 'prepack-cache': ' ' }, usage)).toThrow(
      new UsageError('--prepack-cache takes on, a folder or off, found ""', usage),
    );
  });
});

describe('--threads', () => {
  it('defaults to os.availableParallelism() and takes a positive integer', () => {
    expect(parseThreadsArgument(undefined, usage)).toBe(availableParallelism());
    expect(parseThreadsArgument('2', usage)).toBe(2);
  });

  it.each(['0', '-1', '1.5', 'many', ''])('refuses %j naming the flag and the range', (value) => {
    expect(() => parseThreadsArgument(value, usage)).toThrow(
      new UsageError(`--threads must be an integer >= 1, found ${JSON.stringify(value)}`, usage),
    );
  });
});

describe('listOnnxVariants', () => {
  it('counts external data files in a variant size, and ignores other files', async () => {
    const folder = await modelFolder({
      'decoder_model_merged.onnx': 100,
      'decoder_model_merged.onnx_data': 1000,
      'decoder_model_merged.onnx_data_1': 500,
      'decoder_model_merged_q4.onnx': 70,
      'notes.txt': 3,
    });
    const variants = listOnnxVariants(folder);
    expect(variants.decoder_model_merged).toEqual([
      {
        part: 'decoder_model_merged',
        dtype: 'fp32',
        file: 'decoder_model_merged.onnx',
        bytes: 1600,
        externalData: ['decoder_model_merged.onnx_data', 'decoder_model_merged.onnx_data_1'],
      },
      { part: 'decoder_model_merged', dtype: 'q4', file: 'decoder_model_merged_q4.onnx', bytes: 70, externalData: [] },
    ]);
    expect(variants.embed_tokens).toEqual([]);
  });
});

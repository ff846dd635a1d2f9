import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinyFixture } from '@video-llava/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FormatAccuracy, formatAccuracyTable, measureFormatAccuracy } from '../../test/format-accuracy.js';
import type { ConversionReport } from '../conversion-report.js';
import type { WeightFormat } from '../weight-format.js';
import { convertCheckpoint } from './convert-checkpoint.js';

// The fixture converted to every weight format, run with onnxruntime-node over the six cases and compared with
// transformers' float32 reference: the largest logits_last error and how many greedy tokens stay the same.
// The table this prints is the one in the package README. The bounds below are the measured values with
// headroom (random weights leave greedy gaps as small as 1e-3, so quantized formats may change tokens).
const bounds: Record<WeightFormat, { maxLogitError: number; firstTokensEqual: number }> = {
  fp32: { maxLogitError: 1e-4, firstTokensEqual: 7 },
  fp16: { maxLogitError: 2e-3, firstTokensEqual: 7 },
  q8: { maxLogitError: 3e-2, firstTokensEqual: 7 },
  q4: { maxLogitError: 0.3, firstTokensEqual: 5 },
};
const formats = Object.keys(bounds) as WeightFormat[];

describe('fp32, fp16, q8 and q4 conversions of the fixture against the reference', () => {
  let root: string;
  let report: ConversionReport;
  let contrib: string;
  const measured: Array<FormatAccuracy & { bytes: number; label?: string }> = [];
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'converter-formats-'));
    report = await convertCheckpoint(tinyFixture.model, join(root, 'out'), { dtypes: formats, blockSize: 32 });
    // The quantized decoders again, built with ONNX Runtime contrib ops, beside the same encoders.
    contrib = (await convertCheckpoint(tinyFixture.model, join(root, 'contrib'), { dtypes: ['q8', 'q4'], parts: ['decoder_model_merged'], contribOps: true, copyFiles: false })).outputDirectory;
    for (const dtype of ['q8', 'q4']) {
      for (const part of ['embed_tokens', 'image_encoder', 'video_encoder']) copyFileSync(join(report.outputDirectory, 'onnx', `${part}_${dtype}.onnx`), join(contrib, 'onnx', `${part}_${dtype}.onnx`));
    }
  }, 120_000);
  afterAll(() => {
    console.log(`fixture, six cases, block size 32:\n${formatAccuracyTable(measured)}`);
    rmSync(root, { recursive: true, force: true });
  });

  it('the report gives each file its bytes and the weight error its format adds', () => {
    const decoders = Object.fromEntries(formats.map((dtype) => [dtype, report.files.find((file) => file.path === `onnx/decoder_model_merged${dtype === 'fp32' ? '' : `_${dtype}`}.onnx`)!]));
    expect(decoders['fp32']!.weightError).toEqual({ maxAbsError: 0, relativeRmsError: 0 });
    // The fixture's weights are float16, so fp16 stores them exactly; then 8-bit blocks < 4-bit blocks.
    expect(decoders['fp16']!.weightError).toEqual({ maxAbsError: 0, relativeRmsError: 0 });
    expect(decoders['q8']!.weightError!.relativeRmsError).toBeGreaterThan(0);
    expect(decoders['q8']!.weightError!.relativeRmsError).toBeLessThan(decoders['q4']!.weightError!.relativeRmsError);
    expect(decoders['q4']!.weightError!.relativeRmsError).toBeLessThan(0.2);
    for (const file of report.files) expect(file.bytes).toBeGreaterThan(0);
    const bytes = (dtype: WeightFormat) => report.files.filter((file) => file.dtype === dtype).reduce((sum, file) => sum + file.bytes, 0);
    expect(bytes('fp16')).toBeLessThan(bytes('fp32') * 0.55);
    expect(bytes('q4')).toBeLessThan(bytes('q8'));
    expect(bytes('q8')).toBeLessThan(bytes('fp16'));
  });

  it.each(formats)('%s: max logit error and greedy agreement over the six cases', async (dtype) => {
    const accuracy = await measureFormatAccuracy(report.outputDirectory, dtype);
    measured.push({ ...accuracy, bytes: report.files.filter((file) => file.dtype === dtype).reduce((sum, file) => sum + file.bytes, 0) });
    expect(accuracy.maxLogitError).toBeLessThanOrEqual(bounds[dtype].maxLogitError);
    expect(accuracy.firstTokenAgreement.rows).toBe(7);
    expect(accuracy.firstTokenAgreement.equal).toBeGreaterThanOrEqual(bounds[dtype].firstTokensEqual);
    if (dtype === 'fp32') expect(accuracy.greedyPrefixAgreement.equal).toBe(accuracy.greedyPrefixAgreement.tokens);
  }, 120_000);

  it.each(['q8', 'q4'] as const)('%s with the contrib-op decoder: within the same bounds', async (dtype) => {
    const accuracy = await measureFormatAccuracy(contrib, dtype);
    measured.push({ ...accuracy, label: `${dtype}, contribOps`, bytes: Number.NaN });
    expect(accuracy.maxLogitError).toBeLessThanOrEqual(bounds[dtype].maxLogitError);
    expect(accuracy.firstTokenAgreement.equal).toBeGreaterThanOrEqual(bounds[dtype].firstTokensEqual);
  }, 120_000);
});

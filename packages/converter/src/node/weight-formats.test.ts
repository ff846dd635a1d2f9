import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureCases, measureDifference, tinyFixture } from '@video-llava/test-utils';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FormatAccuracy, formatAccuracyTable, measureFormatAccuracy } from '../../test/format-accuracy.js';
import { loadSessions, runCase } from '../../test/model-runner.js';
import type { ConversionReport } from '../conversion-report.js';
import { WEIGHT_FORMAT_SUFFIXES, type WeightFormat } from '../weight-format.js';
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
    // The quantized decoders again, built with ONNX Runtime contrib ops and the default block size (128: wider than the
    // fixture's rows, so one scale per row), beside the same encoders.
    contrib = (
      await convertCheckpoint(tinyFixture.model, join(root, 'contrib'), {
        dtypes: ['q8', 'q4'],
        parts: ['decoder_model_merged'],
        contribOps: true,
        copyFiles: false,
      })
    ).outputDirectory;
    for (const dtype of ['q8', 'q4']) {
      for (const part of ['embed_tokens', 'image_encoder', 'video_encoder'])
        copyFileSync(
          join(report.outputDirectory, 'onnx', `${part}_${dtype}.onnx`),
          join(contrib, 'onnx', `${part}_${dtype}.onnx`),
        );
    }
  }, 120_000);
  afterAll(() => {
    console.log(`fixture, six cases, block size 32:\n${formatAccuracyTable(measured)}`);
    rmSync(root, { recursive: true, force: true });
  });

  it('the report gives each file its bytes and the weight error its format adds', () => {
    const decoders = Object.fromEntries(
      formats.map((dtype) => [
        dtype,
        report.files.find(
          (file) => file.path === `onnx/decoder_model_merged${dtype === 'fp32' ? '' : `_${dtype}`}.onnx`,
        )!,
      ]),
    );
    expect(decoders['fp32']!.weightError).toEqual({ maxAbsError: 0, relativeRmsError: 0 });
    // The fixture's weights are float16, so fp16 stores them exactly; then 8-bit blocks < 4-bit blocks.
    expect(decoders['fp16']!.weightError).toEqual({ maxAbsError: 0, relativeRmsError: 0 });
    expect(decoders['q8']!.weightError!.relativeRmsError).toBeGreaterThan(0);
    expect(decoders['q8']!.weightError!.relativeRmsError).toBeLessThan(decoders['q4']!.weightError!.relativeRmsError);
    expect(decoders['q4']!.weightError!.relativeRmsError).toBeLessThan(0.2);
    for (const file of report.files) expect(file.bytes).toBeGreaterThan(0);
    const bytes = (dtype: WeightFormat) =>
      report.files.filter((file) => file.dtype === dtype).reduce((sum, file) => sum + file.bytes, 0);
    expect(bytes('fp16')).toBeLessThan(bytes('fp32') * 0.55);
    expect(bytes('q4')).toBeLessThan(bytes('q8'));
    expect(bytes('q8')).toBeLessThan(bytes('fp16'));
  });

  it.each(formats)(
    '%s: max logit error and greedy agreement over the six cases',
    async (dtype) => {
      const accuracy = await measureFormatAccuracy(report.outputDirectory, dtype);
      measured.push({
        ...accuracy,
        bytes: report.files.filter((file) => file.dtype === dtype).reduce((sum, file) => sum + file.bytes, 0),
      });
      expect(accuracy.maxLogitError).toBeLessThanOrEqual(bounds[dtype].maxLogitError);
      expect(accuracy.firstTokenAgreement.rows).toBe(7);
      expect(accuracy.firstTokenAgreement.equal).toBeGreaterThanOrEqual(bounds[dtype].firstTokensEqual);
      if (dtype === 'fp32') expect(accuracy.greedyPrefixAgreement.equal).toBe(accuracy.greedyPrefixAgreement.tokens);
    },
    120_000,
  );

  it.each([...formats.map((dtype) => [dtype, 'out'] as const), ['q8', 'contrib'] as const, ['q4', 'contrib'] as const])(
    '%s (%s): num_logits_to_keep 0 gives exactly the logits of the decoder without the input, 1 its last position',
    async (dtype, folder) => {
      const directory = folder === 'out' ? report.outputDirectory : contrib;
      const sessions = await loadSessions(directory, WEIGHT_FORMAT_SUFFIXES[dtype]);
      const without = join(root, `without-${folder}`);
      if (!existsSync(without)) {
        await convertCheckpoint(tinyFixture.model, without, {
          dtypes: folder === 'out' ? formats : ['q8', 'q4'],
          // The block size of the folder it is compared with (`out`: 32; `contrib`: the default).
          ...(folder === 'out' ? { blockSize: 32 } : {}),
          parts: ['decoder_model_merged'],
          contribOps: folder === 'contrib',
          numLogitsToKeepInput: false,
          copyFiles: false,
        });
      }
      const withoutDecoder = await ort.InferenceSession.create(
        join(without, 'onnx', `decoder_model_merged${WEIGHT_FORMAT_SUFFIXES[dtype]}.onnx`),
        { logSeverityLevel: 3, intraOpNumThreads: 2 },
      );
      try {
        expect(sessions.decoder.inputNames).toContain('num_logits_to_keep');
        expect(withoutDecoder.inputNames).not.toContain('num_logits_to_keep');
        const textOnly = fixtureCases().find((fixtureCase) => fixtureCase.name === 'text_only')!;
        const all = await runCase(sessions, textOnly, false, 0);
        const last = await runCase(sessions, textOnly, false, 1);
        const reference = await runCase({ ...sessions, decoder: withoutDecoder }, textOnly);
        expect(all.prefill.logits!.dims).toEqual([1, all.sequence, all.vocab]);
        expect(all.prefill.logits!.data).toEqual(reference.prefill.logits!.data);
        expect(last.prefill.logits!.dims).toEqual([1, 1, all.vocab]);
        // The lm_head over one row instead of all may add up in another order (float16 rounds more).
        const tolerance = dtype === 'fp16' ? 1e-3 : 1e-5;
        expect(measureDifference(last.logitsLast, all.logitsLast).maxAbsDifference).toBeLessThanOrEqual(tolerance);
      } finally {
        await withoutDecoder.release();
        await sessions.release();
      }
    },
  );

  it.each(['q8', 'q4'] as const)(
    '%s with the contrib-op decoder: within the same bounds',
    async (dtype) => {
      const accuracy = await measureFormatAccuracy(contrib, dtype);
      measured.push({ ...accuracy, label: `${dtype}, contribOps, default block size`, bytes: Number.NaN });
      expect(accuracy.maxLogitError).toBeLessThanOrEqual(bounds[dtype].maxLogitError);
      expect(accuracy.firstTokenAgreement.equal).toBeGreaterThanOrEqual(bounds[dtype].firstTokensEqual);
    },
    120_000,
  );
});

import { measureDifference, fixtureCases, tinyFixture } from '@video-llava/test-utils';
import { WEIGHT_FORMAT_SUFFIXES, type WeightFormat } from '../src/weight-format.js';
import { greedyGenerate, loadSessions, runCase } from './model-runner.js';

/** How one weight format of the fixture compares with transformers' float32 reference over the six cases. */
export interface FormatAccuracy {
  dtype: WeightFormat;
  /** Largest |logits_last - reference| over every case and row. */
  maxLogitError: number;
  /** Rows whose first greedy token (argmax of logits_last) is the reference's. */
  firstTokenAgreement: { equal: number; rows: number };
  /** Greedy tokens (free running, KV cache) equal to the reference before the first difference, over all rows. */
  greedyPrefixAgreement: { equal: number; tokens: number };
}

/** Runs the six fixture cases on `directory`'s files of one format and compares with the references. */
export async function measureFormatAccuracy(directory: string, dtype: WeightFormat): Promise<FormatAccuracy> {
  const sessions = await loadSessions(directory, WEIGHT_FORMAT_SUFFIXES[dtype]);
  const result: FormatAccuracy = {
    dtype,
    maxLogitError: 0,
    firstTokenAgreement: { equal: 0, rows: 0 },
    greedyPrefixAgreement: { equal: 0, tokens: 0 },
  };
  try {
    for (const fixtureCase of fixtureCases()) {
      const run = await runCase(sessions, fixtureCase);
      const reference = tinyFixture.npy(`case_${fixtureCase.name}`, 'logits_last.npy');
      result.maxLogitError = Math.max(
        result.maxLogitError,
        measureDifference(run.logitsLast, reference.data as Float32Array).maxAbsDifference,
      );
      const expected = tinyFixture.npy(`case_${fixtureCase.name}`, 'generated_ids.npy');
      const [rows, steps] = expected.dims as [number, number];
      const generated = await greedyGenerate(sessions, run, steps);
      for (let row = 0; row < rows; row++) {
        const want = Array.from((expected.data as BigInt64Array).subarray(row * steps, (row + 1) * steps), Number);
        let prefix = 0;
        while (prefix < steps && generated[row]![prefix] === want[prefix]) prefix++;
        result.firstTokenAgreement.rows++;
        if (prefix > 0) result.firstTokenAgreement.equal++;
        result.greedyPrefixAgreement.equal += prefix;
        result.greedyPrefixAgreement.tokens += steps;
      }
    }
  } finally {
    await sessions.release();
  }
  return result;
}

/** A markdown table of {@link FormatAccuracy} rows with the byte sizes of each format's files. */
export function formatAccuracyTable(rows: ReadonlyArray<FormatAccuracy & { bytes: number; label?: string }>): string {
  return [
    '| dtype | bytes (4 files) | max \\|logits_last - reference\\| | first greedy token equal | greedy tokens equal (prefix) |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (row) =>
        `| ${row.label ?? row.dtype} | ${Number.isNaN(row.bytes) ? '' : row.bytes} | ${row.maxLogitError.toExponential(2)} | ${row.firstTokenAgreement.equal}/${row.firstTokenAgreement.rows} | ${row.greedyPrefixAgreement.equal}/${row.greedyPrefixAgreement.tokens} |`,
    ),
  ].join('\n');
}

import type { ProgressEvent } from '@video-llava/core';
import { type ConversionReport, type WeightFormat, convertCheckpoint, formatConversionReport, parseWeightFormat } from '@video-llava/converter/node';
import { type CliCommand, type CliIo, UsageError } from '../command.js';
import { defineCommand } from '../define-command.js';
import { sourceFlags, sourceOptionsFromFlags } from '../model-source-arguments.js';
import { jsonFlag, writeResult } from '../write-result.js';

const usage = [
  'video-llava convert <checkpoint-dir | org/name[@revision]> <out-dir> [--dtype fp32|fp16|q8|q4]... [--block-size N]',
  '                    [--contrib-ops] [--overwrite] [--json] [--cache-dir <dir>] [--offline]',
].join('\n');

function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * A progress bar on stderr: redrawn in place on a terminal, otherwise one line per file and per 10%, so logs
 * stay short.
 */
function createProgressBar(stderr: CliIo['stderr']): { update(event: ProgressEvent): void; finish(): void } {
  const terminal = (stderr as { isTTY?: boolean }).isTTY === true;
  let lastFile: string | undefined;
  let lastTenth = -1;
  let drawn = false;
  return {
    update(event) {
      const total = event.total ?? 0;
      const fraction = total > 0 ? Math.min(1, event.done / total) : 0;
      const width = 30;
      const filled = Math.round(fraction * width);
      const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}% ${formatBytes(event.done)} / ${formatBytes(total)}  ${event.file ?? ''}`;
      if (terminal) {
        stderr.write(`\r${line}\u001b[K`);
        drawn = true;
        return;
      }
      const tenth = Math.floor(fraction * 10);
      if (event.file !== lastFile || tenth !== lastTenth) {
        stderr.write(`${line}\n`);
        lastFile = event.file;
        lastTenth = tenth;
      }
    },
    finish() {
      if (drawn) stderr.write('\n');
    },
  };
}

/** `video-llava convert`: a Hugging Face Video-LLaVA checkpoint to the ONNX model folder, in any weight formats. */
export const command: CliCommand = defineCommand({
  name: 'convert',
  summary: 'Convert a Hugging Face checkpoint to ONNX (fp32, fp16, q8, q4)',
  usage,
  options: {
    dtype: { type: 'string', multiple: true, value: 'fp32|fp16|q8|q4', description: 'a weight format to write; repeat it or list several with commas (default: fp32)' },
    'block-size': { type: 'string', value: 'N', description: 'block size of the q8 and q4 weights, a power of two >= 16 (default: 32)' },
    'contrib-ops': { type: 'boolean', default: false, description: "use ONNX Runtime's fused ops in the decoder (fp32, q8, q4): faster, ONNX Runtime only" },
    overwrite: { type: 'boolean', default: false, description: 'replace a non-empty <out-dir>, once the new model is complete' },
    'external-data-chunk-bytes': { type: 'string', value: 'N', description: 'the most bytes in one external data file; weights go on in .onnx_data_1, ... (default: 2 GiB - 64 MiB)' },
    ...jsonFlag('print the conversion report as one JSON line instead of the table'),
    ...sourceFlags,
  },
  positionals: [
    { name: '<checkpoint-dir>', description: 'a checkpoint folder or a hub id (org/name)' },
    { name: '<out-dir>', description: 'the folder to write the ONNX model to' },
  ],
  async run({ values, positionals: [source, output] }, io) {
    let dtypes: WeightFormat[];
    let blockSize: number | undefined;
    try {
      dtypes = (values.dtype ?? ['fp32']).flatMap((value) => value.split(',')).map((value) => parseWeightFormat(value.trim(), '--dtype'));
    } catch (error) {
      throw new UsageError((error as Error).message, usage);
    }
    if (values['block-size'] !== undefined) {
      blockSize = Number(values['block-size']);
      if (!Number.isSafeInteger(blockSize)) throw new UsageError(`--block-size must be an integer, found ${JSON.stringify(values['block-size'])}`, usage);
    }
    // convertCheckpoint takes the working directory beside the source options, not inside them
    const { cwd, ...sourceOptions } = sourceOptionsFromFlags(values, io);
    const progress = createProgressBar(io.stderr);
    let report: ConversionReport;
    try {
      report = await convertCheckpoint(source, output, {
        dtypes,
        ...(blockSize === undefined ? {} : { blockSize }),
        overwrite: values.overwrite,
        contribOps: values['contrib-ops'],
        ...(values['external-data-chunk-bytes'] === undefined ? {} : { externalDataChunkBytes: Number(values['external-data-chunk-bytes']) }),
        cwd,
        sourceOptions,
        onProgress: (event) => progress.update(event),
      });
    } finally {
      progress.finish();
    }
    writeResult(io, report, { json: values.json, formatText: formatConversionReport });
    return 0;
  },
});

import {
  type ConversionReport,
  DEFAULT_BLOCK_SIZE,
  type WeightFormat,
  convertCheckpoint,
  formatConversionReport,
  parseWeightFormat,
} from '@video-llava/converter/node';
import { type CliCommand, UsageError } from '../command.js';
import { defineCommand } from '../define-command.js';
import { checkModelArgument, sourceFlags, sourceOptionsFromFlags } from '../model-source-arguments.js';
import { createProgressDisplay } from '../progress-display.js';
import { jsonFlag, writeResult } from '../write-result.js';

const usage = [
  'video-llava convert <checkpoint-dir | org/name[@revision]> <out-dir> [--dtype fp32|fp16|q8|q4]... [--block-size N]',
  '                    [--contrib-ops] [--external-data-chunk-bytes N] [--overwrite] [--json] [--cache-dir <dir>] [--offline]',
].join('\n');

/** `video-llava convert`: a Hugging Face Video-LLaVA checkpoint to the ONNX model folder, in any weight formats. */
export const command: CliCommand = defineCommand({
  name: 'convert',
  summary: 'Convert a Hugging Face checkpoint to ONNX (fp32, fp16, q8, q4)',
  usage,
  options: {
    dtype: {
      type: 'string',
      multiple: true,
      value: 'fp32|fp16|q8|q4',
      description: 'a weight format to write; repeat it or list several with commas (default: fp32)',
    },
    'block-size': {
      type: 'string',
      value: 'N',
      description: `block size of the q8 and q4 weights, a power of two >= 16 (default: ${DEFAULT_BLOCK_SIZE})`,
    },
    'contrib-ops': {
      type: 'boolean',
      default: false,
      description: "use ONNX Runtime's fused ops in the decoder (fp32, q8, q4): faster, ONNX Runtime only",
    },
    overwrite: {
      type: 'boolean',
      default: false,
      description: 'replace a non-empty <out-dir>, once the new model is complete',
    },
    'external-data-chunk-bytes': {
      type: 'string',
      value: 'N',
      description:
        'the most bytes in one external data file; weights go on in .onnx_data_1, ... (default: 2 GiB - 64 MiB)',
    },
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
      dtypes = (values.dtype ?? ['fp32'])
        .flatMap((value) => value.split(','))
        .map((value) => parseWeightFormat(value.trim(), '--dtype'));
    } catch (error) {
      throw new UsageError((error as Error).message, usage);
    }
    if (values['block-size'] !== undefined) {
      blockSize = Number(values['block-size']);
      if (!Number.isSafeInteger(blockSize))
        throw new UsageError(`--block-size must be an integer, found ${JSON.stringify(values['block-size'])}`, usage);
    }
    checkModelArgument(source, io.cwd, '<checkpoint-dir>');
    // convertCheckpoint takes the working directory beside the source options, not inside them
    const { cwd, ...sourceOptions } = sourceOptionsFromFlags(values, io);
    const progress = createProgressDisplay(io.stderr);
    let report: ConversionReport;
    try {
      report = await convertCheckpoint(source, output, {
        dtypes,
        ...(blockSize === undefined ? {} : { blockSize }),
        overwrite: values.overwrite,
        contribOps: values['contrib-ops'],
        ...(values['external-data-chunk-bytes'] === undefined
          ? {}
          : { externalDataChunkBytes: Number(values['external-data-chunk-bytes']) }),
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

import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ProgressEvent } from '@video-llava/core';
import { type ConversionReport, type WeightFormat, convertCheckpoint, formatConversionReport, parseWeightFormat } from '@video-llava/converter/node';
import { type CliCommand, type CliIo, UsageError } from '../command.js';

const usage = [
  'video-llava convert <checkpoint-dir | org/name[@revision]> <out-dir> [--dtype fp32|fp16|q8|q4]... [--block-size 32]',
  '                    [--contrib-ops] [--overwrite] [--json] [--cache-dir <dir>] [--offline]',
].join('\n');

function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * A progress bar on stderr: redrawn in place on a terminal, otherwise one line per file and per 10%, so logs
 * stay short.
 */
export function createProgressBar(stderr: CliIo['stderr']): { update(event: ProgressEvent): void; finish(): void } {
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
export const command: CliCommand = {
  name: 'convert',
  summary: 'Convert a Hugging Face checkpoint to ONNX (fp32, fp16, q8, q4)',
  usage,
  async run(argv, io) {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          dtype: { type: 'string', multiple: true },
          'block-size': { type: 'string' },
          'contrib-ops': { type: 'boolean', default: false },
          overwrite: { type: 'boolean', default: false },
          json: { type: 'boolean', default: false },
          'cache-dir': { type: 'string' },
          offline: { type: 'boolean', default: false },
        },
      });
    } catch (error) {
      throw new UsageError((error as Error).message, usage);
    }
    const [source, output, ...extra] = parsed.positionals;
    if (source === undefined) throw new UsageError('missing <checkpoint-dir>: a checkpoint folder or a hub id (org/name)', usage);
    if (output === undefined) throw new UsageError('missing <out-dir>: the folder to write the ONNX model to', usage);
    if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`, usage);
    let dtypes: WeightFormat[];
    let blockSize: number | undefined;
    try {
      dtypes = (parsed.values.dtype ?? ['fp32']).flatMap((value) => value.split(',')).map((value) => parseWeightFormat(value.trim(), '--dtype'));
    } catch (error) {
      throw new UsageError((error as Error).message, usage);
    }
    if (parsed.values['block-size'] !== undefined) {
      blockSize = Number(parsed.values['block-size']);
      if (!Number.isSafeInteger(blockSize)) throw new UsageError(`--block-size must be an integer, found ${JSON.stringify(parsed.values['block-size'])}`, usage);
    }
    const progress = createProgressBar(io.stderr);
    let report: ConversionReport;
    try {
      report = await convertCheckpoint(source, output, {
        dtypes,
        ...(blockSize === undefined ? {} : { blockSize }),
        overwrite: parsed.values.overwrite,
        contribOps: parsed.values['contrib-ops'],
        cwd: io.cwd,
        sourceOptions: {
          env: io.env,
          hub: { ...(parsed.values['cache-dir'] ? { cacheDirectory: resolve(io.cwd, parsed.values['cache-dir']) } : {}), ...(parsed.values.offline ? { offline: true } : {}) },
        },
        onProgress: (event) => progress.update(event),
      });
    } finally {
      progress.finish();
    }
    io.stdout.write(parsed.values.json ? `${JSON.stringify(report)}\n` : formatConversionReport(report));
    return 0;
  },
};

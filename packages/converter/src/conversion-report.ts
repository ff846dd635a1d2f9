import type { ModelPart, WeightFormat } from './weight-format.js';

/** One file the converter wrote. */
export interface ConvertedFile {
  /** Path relative to the output folder, with `/` (e.g. `onnx/decoder_model_merged_q4.onnx`). */
  path: string;
  /** Size in bytes. */
  bytes: number;
  /** The model part, for ONNX files and their external data. */
  part?: ModelPart;
  /** The weight format, for ONNX files and their external data. */
  dtype?: WeightFormat;
  /**
   * How far the stored weights are from the checkpoint's (for `.onnx` files): the largest absolute difference
   * and the relative RMS error (`sqrt(sum (w - stored)^2 / sum w^2)`); both 0 for an exact fp32 copy.
   */
  weightError?: { maxAbsError: number; relativeRmsError: number };
}

/** What a conversion did. */
export interface ConversionReport {
  /** The checkpoint as given (folder or hub id). */
  source: string;
  /** The local folder the checkpoint was read from. */
  checkpointDirectory: string;
  /** The output folder. */
  outputDirectory: string;
  /** The weight formats written. */
  dtypes: WeightFormat[];
  /** Every file written, relative to the output folder. */
  files: ConvertedFile[];
  /** Bytes written in all. */
  totalBytes: number;
  /** Wall time in seconds. */
  seconds: number;
  /** Checkpoint tensors the model does not use (not converted), e.g. buffers saved by older exporters. */
  unusedTensors: string[];
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** A human-readable table of a {@link ConversionReport}: each file, its size, and the weight error it adds. */
export function formatConversionReport(report: ConversionReport): string {
  const rows = report.files.map((file) => [
    file.path,
    formatBytes(file.bytes),
    String(file.bytes),
    file.weightError ? `${file.weightError.maxAbsError.toExponential(2)}` : '',
    file.weightError ? `${file.weightError.relativeRmsError.toExponential(2)}` : '',
  ]);
  const header = ['file', 'size', 'bytes', 'max |w - stored|', 'relative RMS error'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ');
  return [
    `Converted ${report.source} -> ${report.outputDirectory} (${report.dtypes.join(', ')}) in ${report.seconds.toFixed(1)} s`,
    line(header),
    ...rows.map(line),
    `total ${formatBytes(report.totalBytes)} (${report.totalBytes} bytes)`,
    ...(report.unusedTensors.length > 0
      ? [
          `${report.unusedTensors.length} checkpoint tensor(s) not used by the model, not converted: ${report.unusedTensors.slice(0, 5).join(', ')}${report.unusedTensors.length > 5 ? ', ...' : ''}`,
        ]
      : []),
    '',
  ].join('\n');
}

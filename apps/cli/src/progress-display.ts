import type { ProgressEvent } from '@video-llava/core';
import type { CliIo } from './command.js';

/** Shows {@link ProgressEvent}s on stderr. */
export interface ProgressDisplay {
  /** Takes one event (download, convert, load, decode-video, decode-image, encode, prefill; decode is skipped). */
  update(event: ProgressEvent): void;
  /** Ends a bar left open (before other output, and at the end). */
  finish(): void;
}

/** Options of {@link createProgressDisplay}. */
export interface ProgressDisplayOptions {
  /**
   * Draw bars redrawn in place (`\r`, ANSI erase); else plain lines without control characters.
   * @default whether stderr is a terminal (`isTTY`)
   */
  terminal?: boolean;
  /**
   * Stages not shown (token by token, the streamed answer shows `decode`).
   * @default ['decode']
   */
  skip?: readonly string[];
}

const BAR_WIDTH = 24;

function formatAmount(value: number, unit: ProgressEvent['unit']): string {
  if (unit !== 'bytes') return String(value);
  if (value >= 2 ** 30) return `${(value / 2 ** 30).toFixed(2)} GiB`;
  if (value >= 2 ** 20) return `${(value / 2 ** 20).toFixed(1)} MiB`;
  if (value >= 2 ** 10) return `${(value / 2 ** 10).toFixed(1)} KiB`;
  return `${value} B`;
}

/** Control characters (a file name may hold them) never reach a log. */
function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this pattern's job
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

function unitWord(event: ProgressEvent): string {
  if (event.unit === 'bytes' || event.unit === undefined) return '';
  return ` ${event.unit}`;
}

/**
 * Progress on stderr. On a terminal: a bar per stage (its file named), redrawn in place, kept when the stage or
 * file completes or another stage begins. Else plain lines: one when a stage or file completes (`[load]
 * onnx/decoder_model_merged_q4.onnx`, `[prefill] 2074 tokens`), and for byte counts (downloads, conversion) one
 * per tenth, so logs stay short.
 */
export function createProgressDisplay(stderr: CliIo['stderr'], options: ProgressDisplayOptions = {}): ProgressDisplay {
  const terminal = options.terminal ?? (stderr as { isTTY?: boolean }).isTTY === true;
  const skip = new Set(options.skip ?? ['decode']);
  const completed = new Set<string>();
  const tenths = new Map<string, number>();
  // the stage whose bar is drawn and not yet ended
  let openStage: string | undefined;
  const finish = (): void => {
    if (openStage !== undefined) stderr.write('\n');
    openStage = undefined;
  };
  return {
    update(event) {
      if (skip.has(event.stage)) return;
      const key = `${event.stage}\u0000${event.file ?? ''}`;
      if (completed.has(key)) return;
      const total = event.total;
      const done = total === undefined ? false : event.done >= total;
      const label = `[${event.stage}]${event.file ? ` ${printable(event.file)}` : ''}`;
      if (terminal) {
        const fraction = total ? Math.min(1, event.done / total) : 0;
        const filled = Math.round(fraction * BAR_WIDTH);
        // another stage: the bar drawn so far stays, as it was
        if (openStage !== undefined && openStage !== event.stage) finish();
        const amount =
          total === undefined
            ? formatAmount(event.done, event.unit)
            : `${formatAmount(event.done, event.unit)} / ${formatAmount(total, event.unit)}${unitWord(event)}`;
        stderr.write(
          `\r${label} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${amount}\u001b[K`,
        );
        openStage = event.stage;
        if (done) {
          completed.add(key);
          finish();
        }
        return;
      }
      if (done) {
        completed.add(key);
        // "1 items" says nothing: a count is shown when there is something to count
        const count =
          event.unit === 'bytes'
            ? ` 100% of ${formatAmount(total!, 'bytes')}`
            : event.unit === 'items' && total === 1
              ? ''
              : ` ${formatAmount(total!, event.unit)}${unitWord(event)}`;
        stderr.write(`${label}${count || (event.file ? '' : ' done')}\n`);
        return;
      }
      if (event.unit === 'bytes' && total) {
        const tenth = Math.floor((event.done / total) * 10);
        if (tenth > (tenths.get(key) ?? -1)) {
          tenths.set(key, tenth);
          stderr.write(`${label} ${tenth * 10}% of ${formatAmount(total, 'bytes')}\n`);
        }
      }
    },
    finish,
  };
}

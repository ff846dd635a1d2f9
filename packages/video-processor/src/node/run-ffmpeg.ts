import { spawn } from 'node:child_process';
import { VideoLlavaError } from '@video-llava/core';

/** What an FFmpeg run left behind. */
export interface FfmpegResult {
  /** Exit code (null when killed). */
  code: number | null;
  /** Everything FFmpeg wrote to stderr (its log). */
  log: string;
}

/** Options of {@link runFfmpeg}. */
export interface RunFfmpegOptions {
  /** Receives stdout chunks as they arrive; without it stdout is ignored. */
  onStdout?: (chunk: Buffer) => void;
  /** Kills FFmpeg when aborted. */
  signal?: AbortSignal;
  /** The file being read, for error messages. */
  file: string;
}

/**
 * Runs FFmpeg with `args`, streaming stdout to `onStdout` and collecting the log. Resolves when the process
 * exits; rejects with `ABORTED` when the signal fires, `UNSUPPORTED` when the binary cannot be started.
 */
export function runFfmpeg(binary: string, args: readonly string[], options: RunFfmpegOptions): Promise<FfmpegResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(
        new VideoLlavaError('ABORTED', `Decoding ${options.file} was aborted.`, {
          file: options.file,
          cause: options.signal.reason,
        }),
      );
      return;
    }
    const child = spawn(binary, args, { stdio: ['ignore', options.onStdout ? 'pipe' : 'ignore', 'pipe'] });
    const logChunks: Buffer[] = [];
    let settled = false;
    let failure: unknown;
    const onAbort = (): void => {
      failure = new VideoLlavaError('ABORTED', `Decoding ${options.file} was aborted.`, {
        file: options.file,
        cause: options.signal?.reason,
      });
      child.kill('SIGKILL');
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.stderr!.on('data', (chunk: Buffer) => logChunks.push(chunk));
    if (options.onStdout) {
      child.stdout!.on('data', (chunk: Buffer) => {
        if (failure !== undefined) return;
        try {
          options.onStdout!(chunk);
        } catch (error) {
          failure = error;
          child.kill('SIGKILL');
        }
      });
    }
    child.on('error', (error) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      reject(
        new VideoLlavaError(
          'UNSUPPORTED',
          `Could not start FFmpeg (${binary}) to decode ${options.file}: ${error.message}.`,
          {
            file: options.file,
            field: 'ffmpegPath',
            expected: 'an executable FFmpeg binary',
            actual: binary,
            cause: error,
          },
        ),
      );
    });
    child.on('close', (code) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      if (failure !== undefined) reject(failure);
      else resolve({ code, log: Buffer.concat(logChunks).toString('utf8') });
    });
  });
}

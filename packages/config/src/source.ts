import type { ProgressCallback } from '@video-llava/core';

/** Options for one read from a {@link ModelSource}. */
export interface ReadOptions {
  /** Progress of a download (bytes). */
  onProgress?: ProgressCallback;
  /** Cancels the read. */
  signal?: AbortSignal;
}

/**
 * Where a checkpoint's files come from: a local folder, an HTTP base URL, the Hugging Face hub.
 * Paths are relative to the checkpoint's root and use `/` (e.g. `onnx/decoder_model_merged.onnx`).
 */
export interface ModelSource {
  /** A human-readable location for messages (`/models/x`, `https://host/base`, `hf://org/name@main`). */
  readonly description: string;
  /** Whether the file exists. A missing file is `false`, not an error. */
  exists(path: string, options?: ReadOptions): Promise<boolean>;
  /** The file's bytes. Throws `FILE_NOT_FOUND` (naming the file) when it is absent, `DOWNLOAD_FAILED` when a transfer fails. */
  readBytes(path: string, options?: ReadOptions): Promise<Uint8Array>;
  /** The file as UTF-8 text. */
  readText(path: string, options?: ReadOptions): Promise<string>;
  /**
   * A local filesystem path for the file when the source has one (a folder, a hub cache), so native
   * runtimes can memory-map it; `undefined` for sources that only serve bytes.
   */
  localPath?(path: string, options?: ReadOptions): Promise<string | undefined>;
}

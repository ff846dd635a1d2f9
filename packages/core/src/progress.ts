/**
 * Progress of long work (downloads, decoding, conversion, encoding). `total` is undefined when unknown.
 */
export interface ProgressEvent {
  /** What is happening, e.g. `"download"`, `"decode"`, `"convert"`, `"prefill"`. */
  stage: string;
  /** The file or item concerned, when there is one. */
  file?: string;
  /** Units done so far (bytes, frames, tensors, tokens: see `unit`). */
  done: number;
  /** Units in all, when known. */
  total?: number;
  /** What `done` and `total` count. */
  unit?: 'bytes' | 'frames' | 'tensors' | 'tokens' | 'items';
}

/** Receives {@link ProgressEvent}s. It must not throw; it may be called often. */
export type ProgressCallback = (event: ProgressEvent) => void;

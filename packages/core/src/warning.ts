/**
 * Stable warning codes. A warning means the work went on with a result that differs from what was asked or what
 * the input claimed; it says what was lost or changed.
 * - `FRAMES_REPEATED`: a video had fewer frames than the sampler takes, so frames repeat;
 * - `MEDIA_DAMAGED`: part of a file could not be read or decoded (truncated, corrupt), the rest was used;
 * - `PREPACK_CACHE_SKIPPED`, `PREPACK_CACHE_INVALID`: onnxruntime-node's prepacked-weights cache could not be written,
 *   or held an entry that did not load; the model loaded from its own file (docs/errors.md).
 */
export type VideoLlavaWarningCode =
  | 'FRAMES_REPEATED'
  | 'MEDIA_DAMAGED'
  | 'PREPACK_CACHE_SKIPPED'
  | 'PREPACK_CACHE_INVALID'
  | (string & {});

/** Something the caller should know about a result that was still produced (see {@link VideoLlavaWarningCode}). */
export interface VideoLlavaWarning {
  /** Stable machine-readable code. */
  code: VideoLlavaWarningCode;
  /** A sentence for people: what happened, to which file, and what was lost or changed. */
  message: string;
  /** The file (path or URL) concerned, when there is one. */
  file?: string | undefined;
  /** What the input claimed or the caller asked for. */
  expected?: unknown;
  /** What was actually used. */
  actual?: unknown;
}

/** Receives {@link VideoLlavaWarning}s (e.g. to print them on stderr). It must not throw. */
export type WarningCallback = (warning: VideoLlavaWarning) => void;

import type { ModelFile } from './backend.js';

/** How messages name a model: `model` for the sentence, `file` for the error's `file` field. */
export interface ModelDescription {
  /** A short name: the file name of a path or URL, or `"the model bytes"`. */
  model: string;
  /** The full path or URL, when the model has one. */
  file?: string;
}

/** Names a {@link ModelFile} for messages and errors. */
export function describeModelFile(model: ModelFile): ModelDescription {
  if (typeof model === 'string' || model instanceof URL) {
    const file = model.toString();
    const withoutQuery = file.split(/[?#]/)[0] ?? file;
    const name = withoutQuery.split(/[\\/]/).filter(Boolean).pop() ?? file;
    return { model: name, file };
  }
  return { model: `the model bytes (${model.byteLength} bytes)` };
}

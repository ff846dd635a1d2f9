import type { ValueMetadata } from '../value-metadata.js';
import type { OrtValueMetadata } from './onnxruntime-api.js';

/** An onnxruntime session's `inputMetadata` or `outputMetadata` as ours: a value that is no tensor has dtype `'non-tensor'`. */
export function readOrtValueMetadata(values: readonly OrtValueMetadata[]): ValueMetadata[] {
  return values.map((value) =>
    value.isTensor
      ? { name: value.name, dtype: value.type, shape: [...value.shape] }
      : { name: value.name, dtype: 'non-tensor', shape: [] },
  );
}

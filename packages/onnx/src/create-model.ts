import { VideoLlavaError } from '@video-llava/core';
import type { GraphProto, ModelProto, OperatorSetId } from './types.js';

/** Options of {@link createModel}. */
export interface CreateModelOptions {
  /**
   * Operator set versions by domain: `""` is `ai.onnx`, `"com.microsoft"` ONNX Runtime's contrib ops.
   * @default { "": 17 }
   */
  opsetImports?: Record<string, number>;
  /** IR version. @default the lowest that supports the `ai.onnx` opset (8 up to opset 18, 9 up to 20, 10 for 21, 11 beyond) */
  irVersion?: number;
  /** @default "video-llava.js" */
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  /** `metadata_props` entries (ONNX Runtime reports them as custom metadata). */
  metadata?: Record<string, string>;
}

function irVersionFor(opset: number): number {
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  if (opset <= 21) return 10;
  return 11;
}

/** Wraps a graph into a {@link ModelProto} with its operator set imports and metadata. */
export function createModel(graph: GraphProto, options: CreateModelOptions = {}): ModelProto {
  const opsets = options.opsetImports ?? { '': 17 };
  const opsetImport: OperatorSetId[] = Object.entries(opsets).map(([domain, version]) => {
    if (!Number.isSafeInteger(version) || version < 1) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `opsetImports[${JSON.stringify(domain)}] must be a positive integer, found ${String(version)}.`,
        {
          field: `opsetImports.${domain === '' ? '""' : domain}`,
          expected: 'a positive integer',
          actual: version,
        },
      );
    }
    return { domain, version };
  });
  const model: ModelProto = {
    irVersion: options.irVersion ?? irVersionFor(opsets[''] ?? 17),
    opsetImport,
    producerName: options.producerName ?? 'video-llava.js',
    graph,
  };
  if (options.producerVersion !== undefined) model.producerVersion = options.producerVersion;
  if (options.docString !== undefined) model.docString = options.docString;
  if (options.metadata !== undefined)
    model.metadataProps = Object.entries(options.metadata).map(([key, value]) => ({ key, value }));
  return model;
}

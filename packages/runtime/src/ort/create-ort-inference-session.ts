import type { ExecutionProvider, SessionOptions } from '../backend.js';
import { executionProviderName, resolveOutputLocations } from '../check-session-options.js';
import { createInferenceSession } from '../create-inference-session.js';
import type { ModelDescription } from '../describe-model-file.js';
import type { InferenceSession, OutputLocation } from '../inference-session.js';
import type { RuntimeTensor } from '../runtime-tensor.js';
import type { OnnxruntimeModule, OrtSession, OrtTensor } from './onnxruntime-api.js';
import { throwIfLoadAborted } from './load-errors.js';
import { fromOrtTensor, toDeviceTensor, toOrtTensor } from './ort-tensors.js';
import { readOrtValueMetadata } from './read-ort-value-metadata.js';

/** What {@link createOrtInferenceSession} needs besides the onnxruntime session. */
export interface OrtInferenceSessionContext {
  /** The backend's name (device tensors carry it), e.g. `'onnxruntime-node'`. */
  backend: string;
  /** The execution provider the session was created with. */
  provider: ExecutionProvider;
  /** The options the session was asked for (`outputLocation` and `signal` are read). */
  sessionOptions: SessionOptions;
  /** How messages name the model. */
  description: ModelDescription;
}

/**
 * Wraps a loaded onnxruntime session into an {@link InferenceSession} with the behaviour every backend shares
 * (see `createInferenceSession`): feeds become onnxruntime tensors without a copy, outputs come back as core
 * tensors or, where asked, as device tensors. Device tensors of WebGPU sessions are GPU buffers that only
 * WebGPU sessions can read; other providers' device tensors stay in host memory.
 * @throws VideoLlavaError `ABORTED` when the load's signal was aborted, `INVALID_ARGUMENT` when
 * `outputLocation` names an output the model lacks; the onnxruntime session is released first
 */
export async function createOrtInferenceSession(
  ort: Pick<OnnxruntimeModule, 'Tensor'>,
  session: OrtSession,
  context: OrtInferenceSessionContext,
): Promise<InferenceSession> {
  const { backend, sessionOptions, description } = context;
  const provider = executionProviderName(context.provider);
  let outputLocations: Record<string, OutputLocation>;
  try {
    throwIfLoadAborted(sessionOptions.signal, description.model);
    outputLocations = resolveOutputLocations(sessionOptions.outputLocation, session.outputNames, description.model);
  } catch (error) {
    await session.release();
    throw error;
  }
  return createInferenceSession(
    {
      inputMetadata: readOrtValueMetadata(session.inputMetadata),
      outputMetadata: readOrtValueMetadata(session.outputMetadata),
      executionProvider: provider,
      outputLocations,
      async run(feeds, outputNames) {
        const ortFeeds: Record<string, OrtTensor> = {};
        for (const name in feeds) ortFeeds[name] = toOrtTensor(ort, feeds[name]!);
        const results = await session.run(ortFeeds, outputNames);
        const outputs: Record<string, RuntimeTensor> = {};
        for (const name of outputNames) {
          const value = results[name]!;
          outputs[name] =
            outputLocations[name] === 'device' ? toDeviceTensor(value, name, backend) : fromOrtTensor(value, name);
        }
        return outputs;
      },
      release: () => session.release(),
    },
    { ...description, backend, devices: provider === 'webgpu' ? ['webgpu'] : [] },
  );
}

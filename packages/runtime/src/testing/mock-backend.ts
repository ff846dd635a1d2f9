import { type Tensor, VideoLlavaError, describeValue } from '@video-llava/core';
import type { Backend, BackendCapabilities, ModelFile, SessionOptions } from '../backend.js';
import { checkSessionOptions, executionProviderName, resolveOutputLocations } from '../check-session-options.js';
import { createInferenceSession } from '../create-inference-session.js';
import { describeModelFile } from '../describe-model-file.js';
import { DeviceTensor } from '../device-tensor.js';
import type { InferenceSession } from '../inference-session.js';
import { throwIfLoadAborted } from '../ort/load-errors.js';
import { type RuntimeTensor, isCpuTensor } from '../runtime-tensor.js';
import { formatType, type ValueMetadata } from '../value-metadata.js';

/** What a scripted run receives besides the feeds. */
export interface MockRunContext {
  /** The outputs asked for; return at least these. */
  outputs: readonly string[];
  /** How many runs this session made before this one. */
  runIndex: number;
  /** The model's key in {@link MockBackendOptions.models}. */
  model: string;
}

/** A scripted model: its signature and how its outputs follow from its feeds. */
export interface MockModel {
  /** The inputs, as a session reports them (dtype, shape with symbolic names). */
  inputs: readonly ValueMetadata[];
  /** The outputs. */
  outputs: readonly ValueMetadata[];
  /**
   * Computes the outputs from the feeds (device feeds arrive downloaded). Return CPU tensors; the mock checks
   * each requested one against {@link outputs} and keeps those asked to stay on the device as device tensors.
   */
  run(
    feeds: Readonly<Record<string, Tensor>>,
    context: MockRunContext,
  ): Record<string, Tensor> | Promise<Record<string, Tensor>>;
}

/** One run the mock saw. */
export interface MockRunRecord {
  /** The model's key. */
  model: string;
  /** The feeds, downloaded to the CPU. */
  feeds: Readonly<Record<string, Tensor>>;
  /** The outputs asked for. */
  outputs: readonly string[];
}

/** Options of {@link createMockBackend}. */
export interface MockBackendOptions {
  /**
   * The models, by the path or URL given to `createSession` (its `toString()`), or a function that picks one
   * for any {@link ModelFile} (bytes included) and the session's options. An unknown model fails with
   * `FILE_NOT_FOUND`, as a missing file does; the function may also throw a `VideoLlavaError` to script a failed
   * load (`INVALID_FILE` for corrupt bytes, `FILE_NOT_FOUND` for a missing external data file).
   */
  models: Readonly<Record<string, MockModel>> | ((model: ModelFile, options: SessionOptions) => MockModel | undefined);
  /**
   * The backend's name (device tensors are tied to it).
   * @default 'mock'
   */
  name?: string;
  /**
   * The execution providers the mock accepts; the first one requested is reported as in use.
   * @default ['cpu', 'mock-gpu']
   */
  executionProviders?: readonly string[];
}

/** A {@link Backend} whose sessions are scripted, with a record of what was asked of it. */
export interface MockBackend extends Backend {
  /** Every run, in order. */
  readonly runs: readonly MockRunRecord[];
  /** Every session created, with the options it was created with. */
  readonly sessions: readonly { model: string; options: SessionOptions; session: InferenceSession }[];
  /** Device tensors returned and not yet disposed (a test can check that a loop frees its KV cache). */
  readonly liveDeviceTensors: number;
}

/**
 * A backend for the tests of the packages above the runtime (model, generation): no ONNX Runtime, sessions whose
 * outputs a test scripts from their feeds, and the same checks, queue, abort and errors as the real backends
 * (it passes the conformance suite with the conformance models scripted).
 *
 * @example
 * const backend = createMockBackend({ models: { 'decoder.onnx': {
 *   inputs: [{ name: 'input_ids', dtype: 'int64', shape: ['batch', 'sequence'] }],
 *   outputs: [{ name: 'logits', dtype: 'float32', shape: ['batch', 'sequence', 4] }],
 *   run: (feeds) => ({ logits: Tensor.zeros('float32', [...feeds.input_ids!.dims, 4]) }),
 * } } });
 */
export function createMockBackend(options: MockBackendOptions): MockBackend {
  const name = options.name ?? 'mock';
  const providers = options.executionProviders ?? ['cpu', 'mock-gpu'];
  const capabilities: BackendCapabilities = {
    executionProviders: providers,
    defaultExecutionProviders: providers.slice(0, 1),
    filePaths: true,
    urls: true,
    deviceOutputs: true,
    memoryMapping: false,
    cache: false,
  };
  const runs: MockRunRecord[] = [];
  const sessions: { model: string; options: SessionOptions; session: InferenceSession }[] = [];
  let liveDeviceTensors = 0;

  const findModel = (
    model: ModelFile,
    sessionOptions: SessionOptions,
  ): { key: string; script: MockModel | undefined } => {
    if (typeof options.models === 'function')
      return {
        key: describeModelFile(model).file ?? describeModelFile(model).model,
        script: options.models(model, sessionOptions),
      };
    const key = typeof model === 'string' || model instanceof URL ? model.toString() : '';
    return { key, script: Object.hasOwn(options.models, key) ? options.models[key] : undefined };
  };

  const checkOutput = (script: MockModel, key: string, outputName: string, value: unknown): Tensor => {
    const declared = script.outputs.find((output) => output.name === outputName)!;
    const expected = formatType(declared.dtype, declared.shape);
    if (!isCpuTensor(value))
      throw new Error(
        `the mock model ${key} returned ${describeValue(value)} for output ${JSON.stringify(outputName)}; expected a Tensor ${expected}.`,
      );
    const fits =
      value.dtype === declared.dtype &&
      (declared.shape.length === 0 ||
        (value.dims.length === declared.shape.length &&
          declared.shape.every((dim, axis) => typeof dim !== 'number' || dim === value.dims[axis])));
    if (!fits)
      throw new Error(
        `the mock model ${key} returned ${value.toString()} for output ${JSON.stringify(outputName)}; expected ${expected}.`,
      );
    return value;
  };

  return {
    name,
    capabilities,
    runs,
    sessions,
    get liveDeviceTensors() {
      return liveDeviceTensors;
    },
    async createSession(model, sessionOptions = {}) {
      const providerList = checkSessionOptions(sessionOptions, capabilities);
      const description = describeModelFile(model);
      throwIfLoadAborted(sessionOptions.signal, description.model);
      const { key, script } = findModel(model, sessionOptions);
      if (script === undefined) {
        throw new VideoLlavaError(
          'FILE_NOT_FOUND',
          `The mock backend has no model ${describeValue(description.file ?? description.model)}.`,
          {
            ...(description.file === undefined ? {} : { file: description.file }),
            expected:
              typeof options.models === 'function' ? 'a model the models function knows' : Object.keys(options.models),
            actual: description.file ?? description.model,
          },
        );
      }
      const outputLocations = resolveOutputLocations(
        sessionOptions.outputLocation,
        script.outputs.map((output) => output.name),
        description.model,
      );
      let runIndex = 0;
      const session = createInferenceSession(
        {
          inputMetadata: script.inputs,
          outputMetadata: script.outputs,
          executionProvider: executionProviderName(providerList[0]!),
          outputLocations,
          async run(feeds, outputNames) {
            const cpuFeeds: Record<string, Tensor> = {};
            for (const [inputName, value] of Object.entries(feeds))
              cpuFeeds[inputName] = DeviceTensor.isInstance(value) ? await value.download() : (value as Tensor);
            runs.push({ model: key, feeds: cpuFeeds, outputs: outputNames });
            const produced = await script.run(cpuFeeds, { outputs: outputNames, runIndex: runIndex++, model: key });
            const result: Record<string, RuntimeTensor> = {};
            for (const outputName of outputNames) {
              const tensor = checkOutput(script, key, outputName, produced[outputName]);
              if (outputLocations[outputName] === 'device') {
                liveDeviceTensors++;
                result[outputName] = new DeviceTensor({
                  dtype: tensor.dtype,
                  dims: tensor.dims,
                  device: 'mock',
                  backend: name,
                  handle: tensor,
                  download: async () => tensor,
                  dispose: () => {
                    liveDeviceTensors--;
                  },
                });
              } else {
                result[outputName] = tensor;
              }
            }
            return result;
          },
          async release() {},
        },
        { ...description, backend: name },
      );
      sessions.push({ model: key, options: sessionOptions, session });
      return session;
    },
  };
}

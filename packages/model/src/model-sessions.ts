import type { ModelSource, PretrainedConfig } from '@video-llava/config';
import { type ProgressCallback, type ProgressEvent, VideoLlavaError } from '@video-llava/core';
import {
  type Backend,
  type InferenceSession,
  type ModelFile,
  type SessionOptions,
  executionProviderName,
} from '@video-llava/runtime';
import { checkConfigAgainstOnnx } from './check-config-against-onnx.js';
import { joinDescription, locateExternalData, locateModelFile } from './locate-model-file.js';
import { type ModelDtype, type ModelPart, modelFilePath } from './model-dtype.js';

/** What {@link ModelSessions} needs to open the parts. */
export interface ModelSessionsInit {
  source: ModelSource;
  backend: Backend;
  dtypes: Readonly<Record<ModelPart, ModelDtype>>;
  sessionOptions: SessionOptions | ((part: ModelPart) => SessionOptions);
  onProgress?: ProgressCallback | undefined;
  /** The configs, checked against each part's ONNX inputs and outputs when it opens (see `checkConfigAgainstOnnx`). */
  config?: PretrainedConfig | undefined;
}

/**
 * The ONNX sessions of one converted model, each opened on first use (a text-only or video-only conversation never
 * loads the image encoder) and shared by every later call. Concurrent first uses share one load; a failed load is
 * forgotten so that the next use tries again.
 */
export class ModelSessions {
  readonly #init: ModelSessionsInit;
  readonly #pending = new Map<ModelPart, Promise<InferenceSession>>();
  readonly #loaded = new Map<ModelPart, InferenceSession>();
  readonly #stems = new Map<ModelPart, string>();
  readonly #extraOptions = new Map<ModelPart, SessionOptions>();
  #released = false;

  constructor(init: ModelSessionsInit) {
    this.#init = init;
  }

  /** The parts whose sessions are open, in the order they were opened. */
  get loadedParts(): ModelPart[] {
    return [...this.#loaded.keys()];
  }

  /** The path of a part's file inside the model folder (`onnx/decoder_model_merged_q4.onnx`). */
  filePath(part: ModelPart): string {
    return modelFilePath(part, this.#init.dtypes[part]).replace(part, this.#stems.get(part) ?? part);
  }

  /**
   * Opens the part from the file with another stem (`decoder_kv_buffer_q4.onnx` for `decoder_model_merged` in q4)
   * when the folder has it; otherwise, or when `stem` is `undefined`, from the part's own file. Before the part's
   * first use only.
   * @returns whether the file with `stem` is the one opened
   */
  async getVariant(
    part: ModelPart,
    stem: string,
    signal?: AbortSignal,
    options: {
      /** Open the part's own file when the folder has none with `stem`. @default true */
      fallback?: boolean;
      /** Session options for this file on top of the part's. */
      sessionOptions?: SessionOptions;
    } = {},
  ): Promise<{ session: InferenceSession; variant: boolean }> {
    if (this.#loaded.has(part) || this.#pending.has(part))
      return { session: await this.get(part, signal), variant: this.#stems.has(part) };
    this.#stems.set(part, stem);
    if (options.sessionOptions) this.#extraOptions.set(part, options.sessionOptions);
    try {
      return { session: await this.get(part, signal), variant: true };
    } catch (error) {
      this.#stems.delete(part);
      this.#extraOptions.delete(part);
      if (
        options.fallback === false ||
        !VideoLlavaError.isInstance(error) ||
        (error.code !== 'FILE_NOT_FOUND' && error.code !== 'DOWNLOAD_FAILED')
      )
        throw error;
      return { session: await this.get(part, signal), variant: false };
    }
  }

  /** The part's file as messages name it (the source's location joined with {@link filePath}). */
  fileDescription(part: ModelPart): string {
    return joinDescription(this.#init.source, this.filePath(part));
  }

  /**
   * The part's session, opened now if it is not yet.
   * @throws VideoLlavaError `SESSION_RELEASED` after {@link release}; whatever the backend throws (`FILE_NOT_FOUND`, ...)
   */
  get(part: ModelPart, signal?: AbortSignal): Promise<InferenceSession> {
    if (this.#released) return Promise.reject(this.#releasedError(part));
    const loaded = this.#loaded.get(part);
    if (loaded) return Promise.resolve(loaded);
    let pending = this.#pending.get(part);
    if (pending === undefined) {
      pending = this.#open(part, signal);
      this.#pending.set(part, pending);
      pending.then(
        (session) => {
          this.#pending.delete(part);
          if (this.#released) void session.release();
          else this.#loaded.set(part, session);
        },
        () => this.#pending.delete(part),
      );
    }
    return pending;
  }

  /** Whether the backend can create sessions with `inPlaceOutputs` (its capabilities say so). */
  get backendInPlaceOutputs(): boolean {
    return this.#init.backend.capabilities.inPlaceOutputs === true;
  }

  /** The name of the backend that opens the parts (`onnxruntime-node`, ...). */
  get backendName(): string {
    return this.#init.backend.name;
  }

  /**
   * The execution provider the part's session would run on, asked of the backend without loading a model; for a
   * backend that cannot tell, the first provider its options list.
   */
  async executionProviderFor(part: ModelPart): Promise<string | undefined> {
    const { backend } = this.#init;
    const options = this.#optionsOf(part);
    if (backend.executionProviderFor) return backend.executionProviderFor(options);
    const first = (options.executionProviders ?? backend.capabilities.defaultExecutionProviders)[0];
    return first === undefined ? undefined : executionProviderName(first);
  }

  #optionsOf(part: ModelPart): SessionOptions {
    const { sessionOptions } = this.#init;
    const base = typeof sessionOptions === 'function' ? sessionOptions(part) : sessionOptions;
    const extra = this.#extraOptions.get(part);
    return extra ? { ...base, ...extra } : base;
  }

  async #open(part: ModelPart, signal: AbortSignal | undefined): Promise<InferenceSession> {
    const { source, backend, onProgress } = this.#init;
    const path = this.filePath(part);
    const base = this.#optionsOf(part);
    let file: ModelFile | undefined;
    // Backends name what they read by URL or absolute path; progress names every file relative to the model folder,
    // like the config files, so one file has one name from download to load.
    const named = onProgress
      ? (event: ProgressEvent) => onProgress({ ...event, file: modelRelativeName(event.file, file, path) })
      : undefined;
    const readOptions = { ...(signal ? { signal } : {}), ...(named ? { onProgress: named } : {}) };
    file = await locateModelFile(source, path, readOptions);
    const externalData = base.externalData ?? (await locateExternalData(source, path, file, readOptions));
    onProgress?.({ stage: 'load', file: path, done: 0, total: 1, unit: 'items' });
    const session = await backend.createSession(file, {
      ...base,
      ...(externalData ? { externalData } : {}),
      ...(signal ? { signal } : {}),
      ...(named ? { onProgress: named } : {}),
    });
    if (this.#init.config) {
      try {
        checkConfigAgainstOnnx(
          part,
          session,
          this.#init.config,
          joinDescription(source, 'config.json'),
          this.fileDescription(part),
        );
      } catch (error) {
        await session.release();
        throw error;
      }
    }
    onProgress?.({ stage: 'load', file: path, done: 1, total: 1, unit: 'items' });
    return session;
  }

  #releasedError(part: ModelPart): VideoLlavaError {
    return new VideoLlavaError(
      'SESSION_RELEASED',
      `The model was released; ${this.filePath(part)} cannot be run any more. Load the model again.`,
      {
        file: this.fileDescription(part),
        expected: 'a model that has not been released',
        actual: 'released',
      },
    );
  }

  /** Whether {@link release} was called. */
  get released(): boolean {
    return this.#released;
  }

  /** Releases every open session (those still loading are released when they arrive). Calling it again does nothing. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    const sessions = [...this.#loaded.values()];
    this.#loaded.clear();
    await Promise.all(sessions.map((session) => session.release()));
  }
}

/**
 * The model-folder path of a file a backend or source reports: `path` itself for the located file, a sibling's path for
 * files beside it (external data, `onnx/x.onnx_data`), the name as given for anything else.
 */
export function modelRelativeName(reported: string | undefined, located: ModelFile | undefined, path: string): string {
  if (reported === undefined) return path;
  if (typeof located !== 'string') return reported;
  if (reported === located) return path;
  const folderEnd = (name: string): number => Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1;
  const locatedFolder = located.slice(0, folderEnd(located));
  if (!locatedFolder || !reported.startsWith(locatedFolder)) return reported;
  return `${path.slice(0, folderEnd(path))}${reported.slice(locatedFolder.length).replaceAll('\\', '/')}`;
}

import { VideoLlavaError } from 'video-llava/web';

/** What `VideoLlava.load` takes besides a URL: a model source (the interface of `@video-llava/config`). */
export interface FolderSource {
  readonly description: string;
  exists(path: string): Promise<boolean>;
  readBytes(
    path: string,
    options?: {
      onProgress?: (event: { stage: 'download'; file: string; done: number; total: number; unit: 'bytes' }) => void;
    },
  ): Promise<Uint8Array>;
  readText(path: string): Promise<string>;
}

/**
 * A model folder on the user's disk, as files by their path inside it (`config.json`, `onnx/decoder_model_merged.onnx`).
 * Files are read when the model asks for them, one at a time, so a chunked external data layout is read chunk by chunk.
 */
export function folderSource(name: string, files: ReadonlyMap<string, File>): FolderSource {
  const file = (path: string): File => {
    const found = files.get(path);
    if (found === undefined) {
      throw new VideoLlavaError('FILE_NOT_FOUND', `The folder "${name}" has no ${path}.`, {
        file: `${name}/${path}`,
        expected: 'a file of a converted model folder',
        actual: 'missing',
      });
    }
    return found;
  };
  return {
    description: name,
    exists: async (path) => files.has(path),
    readBytes: async (path, options) => {
      const found = file(path);
      const bytes = new Uint8Array(await found.arrayBuffer());
      options?.onProgress?.({
        stage: 'download',
        file: path,
        done: bytes.byteLength,
        total: bytes.byteLength,
        unit: 'bytes',
      });
      return bytes;
    },
    readText: async (path) => file(path).text(),
  };
}

/** The files of an `<input webkitdirectory>` by their path inside the picked folder (its own name left out). */
export function filesFromInput(list: FileList): { name: string; files: Map<string, File> } {
  const files = new Map<string, File>();
  let name = 'folder';
  for (const file of Array.from(list)) {
    const relative = file.webkitRelativePath || file.name;
    const cut = relative.indexOf('/');
    if (cut >= 0) name = relative.slice(0, cut);
    files.set(cut >= 0 ? relative.slice(cut + 1) : relative, file);
  }
  return { name, files };
}

interface DirectoryHandle {
  readonly kind: 'directory';
  readonly name: string;
  values(): AsyncIterable<DirectoryHandle | FileHandle>;
}
interface FileHandle {
  readonly kind: 'file';
  readonly name: string;
  getFile(): Promise<File>;
}

/** Whether the browser has the File System Access API's folder picker. */
export function hasDirectoryPicker(): boolean {
  return typeof (globalThis as { showDirectoryPicker?: unknown }).showDirectoryPicker === 'function';
}

/** Asks for a folder with the File System Access API and lists its files (two levels: the folder and `onnx/`). */
export async function pickDirectory(): Promise<{ name: string; files: Map<string, File> }> {
  const picker = (globalThis as unknown as { showDirectoryPicker: (options?: object) => Promise<DirectoryHandle> })
    .showDirectoryPicker;
  const root = await picker({ mode: 'read' });
  const files = new Map<string, File>();
  const walk = async (directory: DirectoryHandle, prefix: string, depth: number): Promise<void> => {
    for await (const entry of directory.values()) {
      if (entry.kind === 'file') files.set(`${prefix}${entry.name}`, await entry.getFile());
      else if (depth < 2) await walk(entry, `${prefix}${entry.name}/`, depth + 1);
    }
  };
  await walk(root, '', 0);
  return { name: root.name, files };
}

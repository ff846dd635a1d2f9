import { lstat, readFile, readdir, realpath } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { VideoLlavaError } from '@video-llava/core';

/**
 * The manifest every conversion writes into its output folder: which converter wrote the folder and every file
 * it wrote. `overwrite` replaces only a folder that has one and holds nothing else, so it can never delete a
 * file a conversion did not write.
 */
export const CONVERSION_MANIFEST = 'video_llava_conversion.json';

/** The content of {@link CONVERSION_MANIFEST}. */
export interface ConversionManifest {
  /** Always `"@video-llava/converter"`. */
  converter: string;
  /** The manifest format version. */
  version: 1;
  /** The checkpoint as given. */
  source: string;
  /** Every file written (besides the manifest), relative to the output folder with `/`. */
  files: string[];
}

/**
 * The real path of `path`, following every symlink, also when `path` (or its last parts) does not exist yet:
 * the deepest existing ancestor is resolved and the rest appended.
 */
export async function realPathOfPossiblyMissing(path: string): Promise<string> {
  const rest: string[] = [];
  let current = path;
  for (;;) {
    try {
      return join(await realpath(current), ...rest.reverse());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      const parent = dirname(current);
      if (parent === current) return join(current, ...rest.reverse());
      rest.push(basename(current));
      current = parent;
    }
  }
}

function isInside(child: string, parent: string): boolean {
  const path = relative(parent, child);
  return (
    path !== '' && path !== '..' && !path.startsWith(`..${sep}`) && !path.startsWith(sep) && !/^[A-Za-z]:/.test(path)
  );
}

/**
 * Refuses an output folder that is the checkpoint folder, holds it, or lies inside it, however either is spelled
 * (relative paths, `..`, symlinks: both are compared by real path). Replacing such a folder would delete the
 * checkpoint; writing inside it would mix the model into its source.
 *
 * @throws VideoLlavaError `INVALID_ARGUMENT` (field `outputDirectory`)
 */
export async function checkOutputApartFromSource(output: string, checkpointDirectory: string): Promise<void> {
  const realOutput = await realPathOfPossiblyMissing(output);
  const realSource = await realPathOfPossiblyMissing(checkpointDirectory);
  const via = (given: string, real: string) => (given === real ? given : `${given} (really ${real})`);
  let relation: string | undefined;
  if (realOutput === realSource) relation = 'is the checkpoint folder';
  else if (isInside(realSource, realOutput)) relation = 'contains the checkpoint folder';
  else if (isInside(realOutput, realSource)) relation = 'lies inside the checkpoint folder';
  if (relation === undefined) return;
  throw new VideoLlavaError(
    'INVALID_ARGUMENT',
    `The output folder ${via(output, realOutput)} ${relation} ${via(checkpointDirectory, realSource)}; choose an output folder outside the checkpoint that does not contain it.`,
    { file: output, field: 'outputDirectory', expected: `a folder apart from ${realSource}`, actual: realOutput },
  );
}

async function listFiles(folder: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(join(folder, prefix), { withFileTypes: true })) {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    // A symlink is an entry of its own (replacing the folder removes the link, not its target).
    if (entry.isDirectory()) files.push(`${path}/`, ...(await listFiles(folder, path)));
    else files.push(path);
  }
  return files;
}

async function readManifest(path: string): Promise<ConversionManifest | undefined> {
  let text: string;
  try {
    if (!(await lstat(path)).isFile()) return undefined;
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as Partial<ConversionManifest>;
    if (
      value.converter !== '@video-llava/converter' ||
      !Array.isArray(value.files) ||
      !value.files.every((file) => typeof file === 'string')
    )
      return undefined;
    return value as ConversionManifest;
  } catch {
    return undefined;
  }
}

/**
 * Whether `output` may be replaced: it is missing, empty, or an earlier conversion output (it has a
 * {@link CONVERSION_MANIFEST} and holds nothing the manifest does not list). Refuses anything else, naming the
 * folder and, when the folder is an earlier output, the first file the conversion did not write.
 *
 * @returns true when there is something to replace
 * @throws VideoLlavaError `INVALID_ARGUMENT` (field `outputDirectory`)
 */
export async function checkReplaceableOutput(output: string, overwrite: boolean): Promise<boolean> {
  let entries: string[];
  try {
    const stats = await lstat(output);
    if (!stats.isDirectory()) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `${output} exists and is not a folder${stats.isSymbolicLink() ? ' (it is a symlink)' : ''}; choose a new folder.`,
        {
          file: output,
          field: 'outputDirectory',
          expected: 'a folder path',
          actual: stats.isSymbolicLink() ? 'a symlink' : 'a file',
        },
      );
    }
    entries = await readdir(output);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  if (entries.length === 0) return false;
  if (!overwrite) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `${output} already exists and is not empty; choose a new folder or pass overwrite (--overwrite) to replace an earlier conversion output.`,
      {
        file: output,
        field: 'outputDirectory',
        expected: 'a new or empty folder',
        actual: 'a non-empty folder',
      },
    );
  }
  const manifest = await readManifest(join(output, CONVERSION_MANIFEST));
  if (!manifest) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `${output} is not a folder an earlier conversion wrote (it has no ${CONVERSION_MANIFEST}); overwrite replaces only conversion outputs. Move or delete it yourself, or choose another output folder.`,
      {
        file: output,
        field: 'outputDirectory',
        expected: `an earlier conversion output (with ${CONVERSION_MANIFEST})`,
        actual: `a folder with ${entries.length} other entr${entries.length === 1 ? 'y' : 'ies'}`,
      },
    );
  }
  const written = new Set([CONVERSION_MANIFEST, ...manifest.files]);
  for (const file of manifest.files) {
    // The folders that hold written files were made by the conversion too.
    for (let end = file.indexOf('/'); end !== -1; end = file.indexOf('/', end + 1)) written.add(file.slice(0, end + 1));
  }
  const foreign = (await listFiles(output)).filter((file) => !written.has(file));
  if (foreign.length > 0) {
    const shown = foreign
      .slice(0, 3)
      .map((file) => join(output, file))
      .join(', ');
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `${output} is an earlier conversion output but also holds ${foreign.length} entr${foreign.length === 1 ? 'y' : 'ies'} the conversion did not write (${shown}${foreign.length > 3 ? ', ...' : ''}); overwrite would delete them. Move them out first, or choose another output folder.`,
      {
        file: join(output, foreign[0]!),
        field: 'outputDirectory',
        expected: `only the files listed in ${CONVERSION_MANIFEST}`,
        actual: foreign,
      },
    );
  }
  return true;
}

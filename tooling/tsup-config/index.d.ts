import type { Options } from 'tsup';
export declare function defineLibraryConfig(
  entry: Record<string, string> | string[],
  overrides?: Options,
): Options | Options[];

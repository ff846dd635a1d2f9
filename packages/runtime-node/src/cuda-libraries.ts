import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The CUDA provider library onnxruntime-node loads for the `cuda` execution provider, or `undefined` when this
 * platform has none. The npm package does not ship it: its install script downloads it (see the README).
 */
export function cudaProviderLibrary(): string | undefined {
  const file =
    process.platform === 'linux'
      ? 'libonnxruntime_providers_cuda.so'
      : process.platform === 'win32'
        ? 'onnxruntime_providers_cuda.dll'
        : undefined;
  if (file === undefined || process.arch !== 'x64') return undefined;
  try {
    const packageJson = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
    return join(dirname(packageJson), 'bin', 'napi-v6', process.platform, process.arch, file);
  } catch {
    return undefined;
  }
}

/**
 * Whether the CUDA provider library, and the shared provider library it loads, are installed beside
 * onnxruntime-node's binary (trying CUDA without them only logs errors).
 */
export function isCudaProviderInstalled(): boolean {
  const library = cudaProviderLibrary();
  if (library === undefined || !existsSync(library)) return false;
  const shared = join(
    dirname(library),
    process.platform === 'win32' ? 'onnxruntime_providers_shared.dll' : 'libonnxruntime_providers_shared.so',
  );
  return existsSync(shared);
}

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The CUDA provider library onnxruntime-node loads for the `cuda` execution provider, or `undefined` when this
 * platform has none. The npm package does not ship it: its install script downloads it (see the README).
 */
export function cudaProviderLibrary(): string | undefined {
  const file = process.platform === 'linux' ? 'libonnxruntime_providers_cuda.so' : process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : undefined;
  if (file === undefined || process.arch !== 'x64') return undefined;
  try {
    const packageJson = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
    return join(dirname(packageJson), 'bin', 'napi-v6', process.platform, process.arch, file);
  } catch {
    return undefined;
  }
}

/** Whether the CUDA provider library is installed beside onnxruntime-node's binary (trying CUDA without it only logs errors). */
export function isCudaProviderInstalled(): boolean {
  const library = cudaProviderLibrary();
  return library !== undefined && existsSync(library);
}

// vitest globalSetup: builds the in-place runner (src/native/build.mjs, skipped when it is up to date), so that its
// tests run against these sources' addon. Unlike the package build it is not optional: a machine that runs the
// tests has a C++ compiler and Node's headers, and a runner that cannot be built fails here, by name.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  execFileSync(process.execPath, [fileURLToPath(new URL('../src/native/build.mjs', import.meta.url))], {
    stdio: 'inherit',
  });
}

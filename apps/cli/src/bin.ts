import { runCli } from './cli.js';
import { guardOnnxRuntimeTelemetry } from './onnx-runtime-environment.js';

// Before any command loads onnxruntime-node: see guardOnnxRuntimeTelemetry.
const refusal = guardOnnxRuntimeTelemetry([...process.execArgv, ...process.argv], process.env);
if (refusal !== undefined) {
  process.stderr.write(`video-llava: ${refusal}\n`);
  process.exitCode = 2;
} else {
  runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    cwd: process.cwd(),
    env: process.env,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `video-llava: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}

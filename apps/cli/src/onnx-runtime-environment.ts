/**
 * The longest command line (bytes of `/proc/self/cmdline`) that ONNX Runtime's telemetry is known to survive here:
 * it crashed from about 29,000 bytes with an 8 MiB stack; a smaller stack limit (`ulimit -s`) lowers that.
 */
export const TELEMETRY_SAFE_COMMAND_LINE_BYTES = 8192;

const DISABLED = new Set(['1', 'true']);

/**
 * Keeps onnxruntime-node (1.30) from crashing on a long command line. Its Linux build starts Microsoft's 1DS
 * telemetry SDK (cpp_client_telemetry) when the ONNX Runtime environment is created, which reads
 * `/proc/self/cmdline` and matches it with `std::regex` `(.*)[ ]*.*[\n]*` to find an app id; libstdc++'s regex
 * executor recurses once per character, so a command line of some 29,000 characters overflows the 8 MiB main-thread
 * stack: SIGSEGV before any of our code can answer. ONNX Runtime skips its telemetry when `ORT_DISABLE_TELEMETRY` is
 * set; this sets it (the CLI has no use for it) unless the user set it, and must run before onnxruntime-node loads.
 *
 * @param commandLine the process's arguments (`process.execArgv` and `process.argv`)
 * @param env the environment to read and set (`process.env`, which native code reads)
 * @returns a message when the user turned telemetry on and the command line is too long for it, else undefined
 */
export function guardOnnxRuntimeTelemetry(
  commandLine: readonly string[],
  env: Record<string, string | undefined>,
): string | undefined {
  const value = env.ORT_DISABLE_TELEMETRY;
  if (value === undefined || value === '') {
    env.ORT_DISABLE_TELEMETRY = '1';
    return undefined;
  }
  if (DISABLED.has(value.toLowerCase())) return undefined;
  const bytes = commandLine.reduce((sum, word) => sum + Buffer.byteLength(word) + 1, 0);
  if (bytes <= TELEMETRY_SAFE_COMMAND_LINE_BYTES) return undefined;
  return `the command line is ${bytes} bytes long and ORT_DISABLE_TELEMETRY=${value} keeps ONNX Runtime's telemetry on, which crashes (SIGSEGV) on command lines of about 29,000 bytes: pass long text with --prompt-file FILE or --question-file FILE (- for stdin), or unset ORT_DISABLE_TELEMETRY.`;
}

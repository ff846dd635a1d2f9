/** What the address bar sets: `?model=URL&device=wasm|webgpu&greedy=1&max_new_tokens=N`. */
export interface DemoSettings {
  /** A converted model folder's URL to load at once. */
  model: string | undefined;
  /** The device forced by `?device=`; `undefined` picks WebGPU when the browser has an adapter, else WebAssembly. */
  device: 'wasm' | 'webgpu' | undefined;
  /** `?greedy=1`: greedy decoding (no sampling), so answers are reproducible. */
  greedy: boolean;
  /** `?max_new_tokens=N`: the most tokens per answer. */
  maxNewTokens: number;
  /** `?threads=N`: WebAssembly threads (onnxruntime-web's choice without it: up to 4 in a cross-origin isolated page, else 1). */
  threads: number | undefined;
  /** What in the address was not understood, for a message. */
  problems: string[];
}

/** The default answer length when `max_new_tokens` is not given. */
export const DEFAULT_MAX_NEW_TOKENS = 256;

/** Reads the settings from a query string (`location.search`). */
export function readSettings(search: string): DemoSettings {
  const parameters = new URLSearchParams(search);
  const problems: string[] = [];
  const deviceText = parameters.get('device');
  let device: DemoSettings['device'];
  if (deviceText === 'wasm' || deviceText === 'webgpu') device = deviceText;
  else if (deviceText !== null && deviceText !== '')
    problems.push(`device=${deviceText} is not wasm or webgpu; choosing automatically.`);
  const greedyText = parameters.get('greedy');
  const greedy = greedyText === '1' || greedyText === 'true';
  const maxText = parameters.get('max_new_tokens');
  let maxNewTokens = DEFAULT_MAX_NEW_TOKENS;
  if (maxText !== null) {
    const value = Number(maxText);
    if (Number.isSafeInteger(value) && value > 0) maxNewTokens = value;
    else problems.push(`max_new_tokens=${maxText} is not a positive integer; using ${DEFAULT_MAX_NEW_TOKENS}.`);
  }
  const threadsText = parameters.get('threads');
  let threads: number | undefined;
  if (threadsText !== null) {
    const value = Number(threadsText);
    if (Number.isSafeInteger(value) && value > 0) threads = value;
    else problems.push(`threads=${threadsText} is not a positive integer; letting onnxruntime-web choose.`);
  }
  const model = parameters.get('model') || undefined;
  return { model, device, greedy, maxNewTokens, threads, problems };
}

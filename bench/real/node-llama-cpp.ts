// The little of node-llama-cpp's API the bench uses (the peer is installed outside the workspace by
// bench/real/peers-install.ts, so its own types are not at hand), and its loading as the bench runs it.

export interface LlamaGenerator extends AsyncGenerator<number, void, void> {}
export interface LlamaSequence {
  clearHistory(): Promise<void>;
  evaluate(tokens: number[], options: { temperature: number }): LlamaGenerator;
  controlledEvaluate(input: unknown[]): Promise<unknown[]>;
}
export interface LlamaContext {
  getSequence(): LlamaSequence;
  dispose(): Promise<void>;
}
export interface LlamaModel {
  createContext(options: Record<string, unknown>): Promise<LlamaContext>;
  dispose(): Promise<void>;
}
export interface Llama {
  loadModel(options: { modelPath: string; gpuLayers: number }): Promise<LlamaModel>;
  dispose(): Promise<void>;
}
interface NodeLlamaCpp {
  LlamaLogLevel: { error: string };
  getLlama(options: Record<string, unknown>): Promise<Llama>;
}

/**
 * llama.cpp's prebuilt CPU binary through node-llama-cpp from the peers' folder (`peers`: a require rooted there),
 * never building and logging errors only, on at most `threads` threads.
 */
export async function loadLlama(peers: NodeJS.Require, threads: number): Promise<Llama> {
  const { getLlama, LlamaLogLevel } = (await import(peers.resolve('node-llama-cpp'))) as NodeLlamaCpp;
  return getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error, maxThreads: threads });
}

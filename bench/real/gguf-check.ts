import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertCheckpoint } from '@video-llava/converter/node';
import { VideoLlava } from 'video-llava';
import { runChild } from './child-process.js';
import { type GgufTensorType, writeLlamaGguf } from './gguf.js';
import { FIXTURE_MODEL_DIR, cacheRoot, converterHash } from './paths.js';
import { GGUF_WRITER_VERSION, type Log } from './prepare.js';
import { ensurePeers } from './peers-install.js';
import { peersDir } from './paths.js';

// The GGUF writer's check: the tiny fixture's text model (2 layers, 4 heads of 16, vocabulary 32064), written as GGUF
// F32 and Q8_0, run by llama.cpp on the token ids of our tokenizer, against our fp32 ONNX model: the next-token
// probabilities after the prompt (top 5) and the greedy tokens. Matching them shows the tensors, the q/k permutation
// for llama.cpp's rope, the norms and the metadata are mapped right.

const PROMPT = 'USER: Hello! What is the capital of France? ASSISTANT:';
const NEW_TOKENS = 8;

export interface GgufCheckResult {
  promptTokens: number;
  ours: { tokens: number[]; top: [number, number][] };
  llama: Record<
    string,
    { tokens: number[]; top: [number, number][]; maxLogProbabilityDifference: number; greedyAgreement: number }
  >;
  /** The bound on the F32 file's log-probability difference (1.6e-4 measured; without the q/k permutation 5.2e-3). */
  f32Bound: number;
  passed: boolean;
}

function softmaxTop(logits: Float32Array, count: number): { top: [number, number][]; probabilities: Float64Array } {
  let max = -Infinity;
  for (const value of logits) max = Math.max(max, value);
  const probabilities = new Float64Array(logits.length);
  let sum = 0;
  for (let index = 0; index < logits.length; index++) sum += probabilities[index] = Math.exp(logits[index]! - max);
  for (let index = 0; index < logits.length; index++) probabilities[index]! /= sum;
  const order = [...probabilities.keys()].sort((a, b) => probabilities[b]! - probabilities[a]!).slice(0, count);
  return { top: order.map((id) => [id, probabilities[id]!]), probabilities };
}

export async function checkGgufWriter(threads: number, log: Log): Promise<GgufCheckResult> {
  const peers = ensurePeers(peersDir(), log);
  void peers;
  const folder = join(cacheRoot(), 'gguf-check');
  mkdirSync(folder, { recursive: true });
  // Our fp32 model of the fixture, converted once per converter version.
  const key = converterHash({ fixture: true, dtypes: ['fp32'] }).slice(0, 16);
  const onnxFolder = join(folder, `onnx-fp32-${key}`);
  if (!existsSync(join(onnxFolder, '.done'))) {
    await convertCheckpoint(FIXTURE_MODEL_DIR, onnxFolder, { dtypes: ['fp32'], overwrite: true });
    writeFileSync(join(onnxFolder, '.done'), '');
  }
  const model = await VideoLlava.load(onnxFolder, { sessionOptions: { threads }, prefixCache: false });
  const ids = Array.from(model.processor({ text: PROMPT }).inputIds.data as BigInt64Array, Number);
  let firstLogits: Float32Array | undefined;
  const answer = await model.generate({
    prompt: PROMPT,
    maxNewTokens: NEW_TOKENS,
    eosTokenId: [],
    doSample: false,
    onStep: (step) => {
      if (step.step === 0) firstLogits = Float32Array.from(step.logits as Float32Array);
    },
  });
  await model.release();
  const ours = { tokens: answer.ids, ...softmaxTop(firstLogits!, 5) };

  const llama: GgufCheckResult['llama'] = {};
  for (const type of ['F32', 'Q8_0', 'Q4_0'] as GgufTensorType[]) {
    const file = join(folder, `fixture-text-${type}-w${GGUF_WRITER_VERSION}.gguf`);
    await writeLlamaGguf(FIXTURE_MODEL_DIR, file, { type });
    const result = await runChild<{
      results: Record<string, { tokens: number[]; top: [number, number][]; probabilities: (number | null)[] }>;
    }>(
      'llama-child.ts',
      { peers: peersDir(), file, threads, newTokens: NEW_TOKENS, prompts: { check: ids }, probabilities: true },
      300,
    );
    const theirs = result.results['check']!;
    // Every token's log-probability (the logits up to one constant), ours against llama.cpp's.
    let maxLogProbabilityDifference = 0;
    for (let id = 0; id < ours.probabilities.length; id++) {
      const theirsProbability = theirs.probabilities[id];
      if (theirsProbability === undefined || theirsProbability === null)
        throw new Error(`llama.cpp gave no probability for token ${id}`);
      maxLogProbabilityDifference = Math.max(
        maxLogProbabilityDifference,
        Math.abs(Math.log(theirsProbability) - Math.log(ours.probabilities[id]!)),
      );
    }
    const agree = theirs.tokens.filter((token, index) => token === ours.tokens[index]).length;
    llama[type] = {
      tokens: theirs.tokens,
      top: theirs.top,
      maxLogProbabilityDifference,
      greedyAgreement: agree / NEW_TOKENS,
    };
    log(
      `gguf check ${type}: greedy ${agree}/${NEW_TOKENS} equal, max |log p ours - log p llama.cpp| over the vocabulary ${maxLogProbabilityDifference.toExponential(2)}`,
    );
  }
  const f32Bound = 5e-4;
  const passed = llama['F32']!.maxLogProbabilityDifference <= f32Bound && llama['F32']!.greedyAgreement === 1;
  return { promptTokens: ids.length, ours: { tokens: ours.tokens, top: ours.top }, llama, f32Bound, passed };
}

/** Last check result, when one was saved. */
export function readCheck(file: string): GgufCheckResult | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as GgufCheckResult) : undefined;
}

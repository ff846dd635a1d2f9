// llama.cpp (node-llama-cpp, prebuilt CPU binary) on a GGUF file written by bench/real/gguf.ts, in its own process:
//   node --import tsx real/llama-child.ts <json args>
// Feeds the given token ids directly (the same ids our processor makes), greedy, a fixed number of new tokens.
// Prints `RESULT <json>` on stdout.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { median } from '../types.js';
import { loadLlama } from './node-llama-cpp.js';

interface ChildArgs {
  peers: string;
  file: string;
  threads: number;
  newTokens: number;
  prompts: Record<string, number[]>;
  /** Return the top-5 next-token probabilities after each prompt and the greedy tokens (the writer check). */
  probabilities?: boolean;
}

const args = JSON.parse(process.argv[2]!) as ChildArgs;
const llama = await loadLlama(createRequire(join(args.peers, 'package.json')), args.threads);
const loadStarted = performance.now();
const model = await llama.loadModel({ modelPath: args.file, gpuLayers: 0 });
const loadMs = performance.now() - loadStarted;
const longest = Math.max(...Object.values(args.prompts).map((ids) => ids.length));
const context = await model.createContext({
  contextSize: Math.ceil((longest + args.newTokens + 8) / 256) * 256,
  batchSize: 512,
  threads: args.threads,
  sequences: 1,
});
const sequence = context.getSequence();
const results: Record<string, unknown> = {};
for (const [name, ids] of Object.entries(args.prompts)) {
  await sequence.clearHistory();
  let top: [number, number][] | undefined;
  let probabilities: number[] | undefined;
  let prefillMs: number;
  const tokens: number[] = [];
  const stamps: number[] = [];
  const started = performance.now();
  if (args.probabilities) {
    // Prefill, with the next-token distribution after the last prompt token.
    const items = ids.map((id, index) =>
      index === ids.length - 1 ? ([id, { generateNext: { probabilities: true, token: true } }] as const) : id,
    );
    const outputs = await sequence.controlledEvaluate(items);
    prefillMs = performance.now() - started;
    const last = outputs.at(-1) as { next?: { token?: number; probabilities?: Map<number, number> } } | undefined;
    const map = last?.next?.probabilities ?? new Map<number, number>();
    top = [...map.entries()].slice(0, 5);
    probabilities = [];
    for (const [token, probability] of map) probabilities[token] = probability;
    tokens.push(last!.next!.token!);
    // Greedy continuation.
    const generator = sequence.evaluate([tokens[0]!], { temperature: 0 });
    for (let step = 1; step < args.newTokens; step++) {
      const next = await generator.next();
      if (next.done) break;
      tokens.push(next.value);
      stamps.push(performance.now());
    }
    await generator.return();
  } else {
    // Greedy from the prompt: the first token comes after the prefill, each next one after one decode step.
    const generator = sequence.evaluate(ids, { temperature: 0 });
    const first = await generator.next();
    prefillMs = performance.now() - started;
    stamps.push(performance.now());
    if (!first.done) tokens.push(first.value);
    for (let step = 1; step < args.newTokens; step++) {
      const next = await generator.next();
      if (next.done) break;
      tokens.push(next.value);
      stamps.push(performance.now());
    }
    await generator.return();
  }
  const steps = stamps.slice(1).map((stamp, index) => stamp - stamps[index]!);
  results[name] = {
    promptTokens: ids.length,
    prefillMs,
    decodeStepsMs: steps,
    decodeMsPerToken: steps.length ? median(steps) : undefined,
    tokens,
    ...(top ? { top, probabilities } : {}),
  };
  process.stderr.write(
    `  [llama.cpp] ${name}: ${ids.length} tokens, prefill ${(prefillMs / 1000).toFixed(1)} s, decode ${steps.length ? median(steps).toFixed(0) : '-'} ms/token\n`,
  );
}
await context.dispose();
await model.dispose();
process.stdout.write(
  `RESULT ${JSON.stringify({ loadMs, results, peakRssGiB: process.resourceUsage().maxRSS / 2 ** 20 })}\n`,
);
await llama.dispose();

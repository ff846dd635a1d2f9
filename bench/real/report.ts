import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Ceilings } from './ceilings.js';
import type { GgufCheckResult } from './gguf-check.js';

/** One question of ours, as ours-child.ts measures it. */
export interface QuestionResult {
  promptTokens: number;
  newTokens: number;
  totalMs: number;
  mediaDecodeMs?: number;
  encodeMs?: number;
  prefillMs?: number;
  firstTokenMs?: number;
  decodeStepsMs: number[];
  decodeMsPerToken?: number;
  maxRssGiB: number;
}

export interface OursResult {
  dtype: string;
  /** The key/value cache the model ran with: float32 (the default decoder), or int8 (`decoderCache: 'int8'`). */
  kvCache?: 'float32' | 'int8';
  threads: number;
  /** As the library loads by default (no prepacked cache). */
  loadMs: number;
  afterLoadRssGiB: number;
  /** Loads in processes of their own: without the prepacked cache, and the one that wrote its entries (if any). */
  loads?: {
    plainMs?: number;
    writingMs?: number;
    entriesWritten?: number;
    prepackedMs?: number;
    /** One decode step (context 274) from the plain load and from the prepacked entry, interleaved in one process. */
    decode?: {
      context: number;
      rounds: number;
      plain: { medianMs: number; minMs: number };
      entry: { medianMs: number; minMs: number };
    };
  };
  cacheDtype?: string;
  /** Missing when the run stopped before it (see `timedOut`). */
  video?: QuestionResult;
  image?: QuestionResult;
  peakRssGiB: number;
  /** The process ran past its budget: what it measured before is here. */
  timedOut?: boolean;
  conversion: { key: string; decoderBytes: number; totalBytes: number };
}

export interface PeerPromptResult {
  promptTokens: number;
  prefillMs: number;
  decodeStepsMs: number[];
  decodeMsPerToken?: number;
  tokens: number[];
}

export interface PeerResult {
  peer: 'llama.cpp' | 'transformers.js';
  variant: string;
  dtype: string;
  loadMs: number;
  /** By prompt; transformers.js may run the image prompt only (`--tfjs-prompts`). */
  results: Partial<Record<'image' | 'video', PeerPromptResult>>;
  peakRssGiB: number;
}

/** The model's work, from its config. */
export interface ModelWork {
  /** 2 x the text layers' weights (q, k, v, o, gate, up, down), per prompt token. */
  prefillFlopPerToken: number;
  /** FLOP of the vision tower (the layers used) and the projector for one video. */
  videoEncodeFlop: number;
  /** Bytes of the key/value cache per token of context, per byte of element. */
  cacheElementsPerToken: number;
}

export interface RunReport {
  date: string;
  commit: string;
  dirty: boolean;
  machine: {
    cpu: string;
    threads: number;
    availableParallelism: number;
    totalMemoryGiB: number;
    executionProvider: string;
    nominalBandwidthGBps?: number;
  };
  layers: { text: number; vision: number };
  newTokens: number;
  convertOptions: Record<string, unknown>;
  sessionOptions: Record<string, unknown>;
  cache: string;
  setupSeconds: Record<string, number>;
  ggufCheck?: GgufCheckResult;
  ceilings?: Ceilings;
  promptTokens?: { image: number; video: number };
  work?: ModelWork;
  ours: OursResult[];
  skipped: { what: string; reason: string }[];
  peers: PeerResult[];
  totalSeconds?: number;
}

const s = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`);
const ms = (value: number | undefined) => (value === undefined ? '-' : `${value.toFixed(0)} ms`);
const x = (value: number | undefined, digits = 2) =>
  value === undefined || !Number.isFinite(value) ? '-' : `${value.toFixed(digits)}`;

function cacheBytes(report: RunReport, ours: OursResult, context: number): number {
  const element = ours.cacheDtype === 'int8' ? 1 : ours.cacheDtype === 'float16' ? 2 : 4;
  return (report.work?.cacheElementsPerToken ?? 0) * element * context;
}

/** The bench's markdown: setup, ceilings, ours per dtype with floors and ceilings, peers, targets. */
export function renderMarkdown(report: RunReport): string {
  const lines: string[] = [];
  const c = report.ceilings;
  lines.push(
    `### Video-LLaVA-7B dimensions, ${report.layers.text} text layers, ${report.layers.vision} vision layers (\`pnpm bench 7b\`)`,
  );
  lines.push('');
  lines.push(
    `${report.date.slice(0, 16).replace('T', ' ')} UTC, commit \`${report.commit}\`${report.dirty ? ' (with uncommitted changes)' : ''}; ${report.machine.cpu}, ${report.machine.executionProvider === 'cpu' ? `${report.machine.threads} threads (of ${report.machine.availableParallelism})` : `execution provider ${report.machine.executionProvider}`}, ${report.machine.totalMemoryGiB.toFixed(0)} GiB; ${report.newTokens} new tokens per question (greedy, no EOS stop); run took ${((report.totalSeconds ?? 0) / 60).toFixed(1)} min${
      Object.keys(report.setupSeconds).length
        ? ` (of which written once: ${Object.entries(report.setupSeconds)
            .map(([name, seconds]) => `${name} ${seconds.toFixed(0)} s`)
            .join(', ')})`
        : ' (cache warm)'
    }.`,
  );
  if (Object.keys(report.convertOptions).length || Object.keys(report.sessionOptions).length)
    lines.push(
      `Converter options ${JSON.stringify(report.convertOptions)}, session options ${JSON.stringify(report.sessionOptions)}.`,
    );
  lines.push('');
  if (c) {
    lines.push(
      `| ceiling (onnxruntime-node, same run, ${report.machine.executionProvider === 'cpu' ? 'same threads' : `${report.machine.executionProvider} provider`}) | measured |`,
    );
    lines.push('| --- | --- |');
    lines.push(
      `| weight streaming: fp32 MatMul 1x4096x11008 chain (${(c.streamBytes / 1e9).toFixed(2)} GB) | ${c.streamGBps.toFixed(1)} GB/s |`,
    );
    lines.push(`| fp32 MatMul 2048x4096x4096 | ${c.fp32MatMulGflops.toFixed(0)} GFLOP/s |`);
    lines.push(
      `| int8: MatMulNBits 4-bit, accuracy_level 4, 512x4096x4096 chain | ${c.int8MatMulGflops.toFixed(0)} GFLOP/s |`,
    );
    lines.push(
      `| q4 GEMV: the same MatMulNBits chain, 1 row (${(c.q4Bytes / 1e9).toFixed(2)} GB) | ${c.q4GemvGBps.toFixed(1)} GB/s |`,
    );
    lines.push('');
  }
  const work = report.work;
  for (const ours of report.ours) {
    const decoderGB = ours.conversion.decoderBytes / 1e9;
    lines.push(
      `**ours, ${ours.dtype}${ours.kvCache === 'int8' ? ", int8 cache (decoderCache 'int8', opt-in, not exact)" : ''}** (decoder files ${decoderGB.toFixed(2)} GB, cache ${ours.cacheDtype ?? 'unknown type'}; folder ${(ours.conversion.totalBytes / 1e9).toFixed(2)} GB)`,
    );
    lines.push('');
    lines.push('| what | ours | floor or ceiling | ratio |');
    lines.push('| --- | --- | --- | --- |');
    const loadFloorMs = c ? (ours.conversion.totalBytes / (c.streamGBps * 1e9)) * 1000 : undefined;
    lines.push(
      `| load (4 parts) | ${s(ours.loadMs)} | ${s(loadFloorMs)} (folder bytes at the streaming rate) | ${x(loadFloorMs && loadFloorMs / ours.loadMs)} of the floor |`,
    );
    const loads = ours.loads;
    if (loads?.prepackedMs !== undefined)
      lines.push(
        `| load (4 parts) from the prepacked cache (opt-in) | ${s(loads.prepackedMs)} | ${s(loadFloorMs)} | ${x(loadFloorMs && loadFloorMs / loads.prepackedMs)} of the floor |`,
      );
    if (loads?.writingMs !== undefined)
      lines.push(
        `| first load writing the prepacked cache (${loads.entriesWritten ?? '?'} files, once) | ${s(loads.writingMs)} | | |`,
      );
    if (loads?.decode)
      lines.push(
        `| decode step at ${loads.decode.context}, interleaved in one process: from the prepacked entry / plain load | ${loads.decode.entry.medianMs.toFixed(0)} / ${loads.decode.plain.medianMs.toFixed(0)} ms (min ${loads.decode.entry.minMs.toFixed(0)} / ${loads.decode.plain.minMs.toFixed(0)}) | | ${x(loads.decode.entry.medianMs / loads.decode.plain.medianMs)} x |`,
      );
    if (ours.timedOut) lines.push(`| (stopped past its budget: ${ours.video ? '' : 'no video question'}) | | | |`);
    const encodeGflops =
      work && ours.video?.encodeMs ? work.videoEncodeFlop / (ours.video.encodeMs / 1000) / 1e9 : undefined;
    lines.push(
      `| vision encode, 8 frames (+ projector) | ${s(ours.video?.encodeMs)} (${x(encodeGflops, 0)} GFLOP/s) | fp32 MatMul ${x(c?.fp32MatMulGflops, 0)} GFLOP/s | ${x(encodeGflops && c && encodeGflops / c.fp32MatMulGflops)} x |`,
    );
    for (const [name, question] of [
      ['image', ours.image],
      ['video', ours.video],
    ] as const) {
      if (!question) continue;
      const tokPerS = question.prefillMs ? question.promptTokens / (question.prefillMs / 1000) : undefined;
      const gflops = work && tokPerS ? (tokPerS * work.prefillFlopPerToken) / 1e9 : undefined;
      lines.push(
        `| prefill, ${name} prompt (${question.promptTokens} tokens) | ${s(question.prefillMs)}: ${x(tokPerS, 1)} tok/s, ${x(gflops, 0)} GFLOP/s | fp32 MatMul ${x(c?.fp32MatMulGflops, 0)}, int8 ${x(c?.int8MatMulGflops, 0)} GFLOP/s | ${x(gflops && c && gflops / c.fp32MatMulGflops)} x fp32, ${x(gflops && c && gflops / c.int8MatMulGflops)} x int8 |`,
      );
    }
    for (const [, question] of [
      ['image', ours.image],
      ['video', ours.video],
    ] as const) {
      if (!question) continue;
      const context = question.promptTokens + Math.floor(question.newTokens / 2);
      const bytes = ours.conversion.decoderBytes + cacheBytes(report, ours, context);
      const floorMs = c ? (bytes / (c.streamGBps * 1e9)) * 1000 : undefined;
      lines.push(
        `| decode at ${question.promptTokens} context (median of ${question.decodeStepsMs.length} steps) | ${ms(question.decodeMsPerToken)}/token | ${ms(floorMs)}: ${(bytes / 1e9).toFixed(2)} GB (weights + cache) at ${x(c?.streamGBps, 1)} GB/s | ${x(floorMs && question.decodeMsPerToken && floorMs / question.decodeMsPerToken)} of the streaming rate |`,
      );
      const nominal = report.machine.nominalBandwidthGBps;
      if (nominal) {
        const nominalFloorMs = (bytes / (nominal * 1e9)) * 1000;
        lines.push(
          `| decode at ${question.promptTokens} context vs the GPU's memory bandwidth | ${ms(question.decodeMsPerToken)}/token | ${ms(nominalFloorMs)} at ${nominal} GB/s (nominal) | ${x(question.decodeMsPerToken && nominalFloorMs / question.decodeMsPerToken, 3)} of it |`,
        );
      }
    }
    const d274 = ours.image?.decodeMsPerToken;
    const d2074 = ours.video?.decodeMsPerToken;
    lines.push(`| decode, long / short context | ${x(d274 && d2074 && d2074 / d274)} x | target at most 1.3 x | |`);
    const weightsGiB = ours.conversion.totalBytes / 2 ** 30;
    const v = ours.video;
    if (!v) {
      lines.push('');
      continue;
    }
    const videoCacheGiB = cacheBytes(report, ours, v.promptTokens + v.newTokens) / 2 ** 30;
    lines.push(
      `| peak RSS, image then video question (load included) | ${v.maxRssGiB.toFixed(2)} GiB | weights ${weightsGiB.toFixed(2)} GiB + cache ${videoCacheGiB.toFixed(2)} GiB | ${x(v.maxRssGiB / (weightsGiB + videoCacheGiB))} x |`,
    );
    const ttft = ours.loadMs + (v.firstTokenMs ?? 0);
    const other = (v.firstTokenMs ?? 0) - (v.mediaDecodeMs ?? 0) - (v.encodeMs ?? 0) - (v.prefillMs ?? 0);
    lines.push(
      `| video question, time to first token | ${s(ttft)} = load ${s(ours.loadMs)} + decode (FFmpeg, 8 frames) ${s(v.mediaDecodeMs)} + encode ${s(v.encodeMs)} + prefill ${s(v.prefillMs)} + other ${s(other)} | | |`,
    );
    lines.push('');
  }
  // Peers side by side.
  if (report.peers.length > 0) {
    lines.push(
      '| peer (same threads, same prompt token ids) | prefill image | prefill video | decode short ctx | decode long ctx | ours / theirs (prefill tok/s; decode speed) |',
    );
    lines.push('| --- | --- | --- | --- | --- | --- |');
    for (const peer of report.peers) {
      const ours = report.ours.find((entry) => entry.dtype === peer.dtype && entry.kvCache !== 'int8');
      const rate = (r: PeerPromptResult | undefined) => (r ? r.promptTokens / (r.prefillMs / 1000) : undefined);
      const oursRate = (q: QuestionResult | undefined) =>
        q?.prefillMs ? q.promptTokens / (q.prefillMs / 1000) : undefined;
      const { image, video } = peer.results;
      const ratios = ours
        ? [
            x(oursRate(ours.image) && rate(image) && oursRate(ours.image)! / rate(image)!),
            x(oursRate(ours.video) && rate(video) && oursRate(ours.video)! / rate(video)!),
            x(
              ours.image?.decodeMsPerToken &&
                image?.decodeMsPerToken &&
                image.decodeMsPerToken / ours.image.decodeMsPerToken,
            ),
            x(
              ours.video?.decodeMsPerToken &&
                video?.decodeMsPerToken &&
                video.decodeMsPerToken / ours.video.decodeMsPerToken,
            ),
          ].join(' / ')
        : 'no ours of that dtype';
      lines.push(
        `| ${peer.peer}: ${peer.variant} | ${x(rate(image), 1)} tok/s | ${x(rate(video), 1)} tok/s | ${ms(image?.decodeMsPerToken)} | ${ms(video?.decodeMsPerToken)} | ${ratios} (ours ${peer.dtype}; above 1: ours faster) |`,
      );
    }
    lines.push('');
  }
  if (report.ggufCheck) {
    const g = report.ggufCheck;
    const others = Object.entries(g.llama)
      .filter(([type]) => type !== 'F32')
      .map(
        ([type, entry]) =>
          `${type} ${(entry.greedyAgreement * 8).toFixed(0)}/8, ${entry.maxLogProbabilityDifference.toExponential(1)}`,
      )
      .join('; ');
    lines.push(
      `GGUF writer check (tiny fixture text model, ${g.promptTokens} prompt tokens, llama.cpp vs our fp32 ONNX): F32 greedy ${(g.llama['F32']!.greedyAgreement * 8).toFixed(0)}/8 equal, max |log p| difference over the vocabulary ${g.llama['F32']!.maxLogProbabilityDifference.toExponential(1)} (bound ${g.f32Bound}); ${others}: ${g.passed ? 'passed' : 'FAILED'}.`,
    );
    lines.push('');
  }
  // The issue's targets, checked.
  const q4 = report.ours.find((entry) => entry.dtype === 'q4' && entry.kvCache !== 'int8');
  const q8 = report.ours.find((entry) => entry.dtype === 'q8' && entry.kvCache !== 'int8');
  const q4Int8 = report.ours.find((entry) => entry.dtype === 'q4' && entry.kvCache === 'int8');
  const q8Int8 = report.ours.find((entry) => entry.dtype === 'q8' && entry.kvCache === 'int8');
  const llamaQ4 = report.peers.find((peer) => peer.peer === 'llama.cpp' && peer.dtype === 'q4');
  if (q4 && c) {
    const short = q4.image;
    const long = q4.video;
    const floorShort = short
      ? ((q4.conversion.decoderBytes + cacheBytes(report, q4, short.promptTokens)) / (c.streamGBps * 1e9)) * 1000
      : undefined;
    const prefillGflops =
      work && long?.prefillMs
        ? ((long.promptTokens / (long.prefillMs / 1000)) * work.prefillFlopPerToken) / 1e9
        : undefined;
    const shortMs = short?.decodeMsPerToken;
    const longMs = long?.decodeMsPerToken;
    const q8Ms = q8?.image?.decodeMsPerToken;
    const llamaMs = llamaQ4?.results.image?.decodeMsPerToken;
    const targets: [string, boolean | undefined, string][] = [
      [
        'q4 decode at the short context reads at least 50% of the streaming rate',
        shortMs && floorShort ? floorShort / shortMs >= 0.5 : undefined,
        x(shortMs && floorShort && floorShort / shortMs),
      ],
      [
        'q4 decode faster than llama.cpp Q4_0 (short context)',
        shortMs && llamaMs ? shortMs < llamaMs : undefined,
        `${ms(shortMs)} vs ${ms(llamaMs)}`,
      ],
      [
        'q4 decode, long context at most 1.3 x the short',
        shortMs && longMs ? longMs / shortMs <= 1.3 : undefined,
        x(shortMs && longMs && longMs / shortMs),
      ],
      [
        "q4 decode, long context at most 1.3 x the short, int8 cache (decoderCache 'int8')",
        q4Int8?.image?.decodeMsPerToken && q4Int8.video?.decodeMsPerToken
          ? q4Int8.video.decodeMsPerToken / q4Int8.image.decodeMsPerToken <= 1.3
          : undefined,
        q4Int8
          ? `${x(q4Int8.video?.decodeMsPerToken && q4Int8.image?.decodeMsPerToken && q4Int8.video.decodeMsPerToken / q4Int8.image.decodeMsPerToken)} (${ms(q4Int8.image?.decodeMsPerToken)} / ${ms(q4Int8.video?.decodeMsPerToken)})`
          : 'not run',
      ],
      [
        'q8 decode at most 2 x q4',
        q8Ms && shortMs ? q8Ms / shortMs <= 2 : undefined,
        x(q8Ms && shortMs && q8Ms / shortMs),
      ],
      [
        'q8 decode at most 2 x q4, int8 cache',
        q8Int8?.image?.decodeMsPerToken && q4Int8?.image?.decodeMsPerToken
          ? q8Int8.image.decodeMsPerToken / q4Int8.image.decodeMsPerToken <= 2
          : undefined,
        x(
          q8Int8?.image?.decodeMsPerToken &&
            q4Int8?.image?.decodeMsPerToken &&
            q8Int8.image.decodeMsPerToken / q4Int8.image.decodeMsPerToken,
        ),
      ],
      [
        'q4 video prefill at least 2 x the fp32 MatMul throughput',
        prefillGflops === undefined ? undefined : prefillGflops >= 2 * c.fp32MatMulGflops,
        `${x(prefillGflops && prefillGflops / c.fp32MatMulGflops)} x`,
      ],
      [
        'q4 video question peak RSS at most 8 GiB',
        long ? long.maxRssGiB <= 8 : undefined,
        long ? `${long.maxRssGiB.toFixed(2)} GiB` : '-',
      ],
      [
        'q4 video question peak RSS at most 8 GiB, int8 cache',
        q4Int8?.video ? q4Int8.video.maxRssGiB <= 8 : undefined,
        q4Int8?.video ? `${q4Int8.video.maxRssGiB.toFixed(2)} GiB` : '-',
      ],
    ];
    lines.push('| target (issue 10, q4) | met | measured |');
    lines.push('| --- | --- | --- |');
    for (const [name, met, measured] of targets)
      lines.push(`| ${name} | ${met === undefined ? '-' : met ? 'yes' : 'NO'} | ${measured} |`);
    lines.push('');
  }
  for (const skipped of report.skipped) lines.push(`- ${skipped.what}: ${skipped.reason}`);
  return lines.join('\n');
}

const START = '<!-- bench 7b: start (written by pnpm bench 7b) -->';
const END = '<!-- bench 7b: end -->';

/** Replaces the 7B section of bench/README.md (between its markers) with `markdown`. */
export function writeReadmeSection(file: string, markdown: string): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  const section = `${START}\n${markdown}\n${END}`;
  const next =
    start >= 0 && end > start
      ? `${text.slice(0, start)}${section}${text.slice(end + END.length)}`
      : `${text}\n${section}\n`;
  writeFileSync(file, next);
}

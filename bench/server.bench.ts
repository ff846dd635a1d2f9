import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { convertCheckpoint } from '@video-llava/converter/node';
import { createVideoLlavaServer } from '@video-llava/server';
import { tinyFixture } from '@video-llava/test-utils';
import { VideoLlava, nodePlatform } from 'video-llava';
import { type BenchRow, type BenchSuite, median } from './types.js';

// `@video-llava/server` under a bounded load on loopback: CLIENTS concurrent clients (more than the queue holds) send
// requests about the bundled video (half as data URLs, half as media-root paths) to the tiny model until ANSWERS are
// answered (at most MAX_ATTEMPTS requests, RUN_LIMIT_MS). Every request must come back 200 with exactly the library's
// greedy text, or 429 (the client then waits what Retry-After says, at most BACKOFF_LIMIT_MS);
// anything else, a request that hangs past REQUEST_LIMIT_MS, or resident memory growing by more than RSS_GROWTH_LIMIT
// between the first and the last quarter fails the suite. Throughput is compared with the same answers asked of
// VideoLlava directly, one after another, half before and half after the load, from the same decoded pixel values
// (the ceiling: the server also runs one request at a time, and decodes a video it has seen only once).
const CLIENTS = 8;
const MAX_QUEUE = 2;
const ANSWERS = 32;
const MAX_ATTEMPTS = 400;
const MAX_TOKENS = 8;
const THREADS = 1;
const REQUEST_LIMIT_MS = 120_000;
const RUN_LIMIT_MS = 300_000;
const RSS_GROWTH_LIMIT = 1.25;
const QUESTION = 'Why is this funny?';
const BACKOFF_LIMIT_MS = 1000;

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

const suite: BenchSuite = {
  title: `server: ${CLIENTS} concurrent clients, --max-queue ${MAX_QUEUE}, ${ANSWERS} answers of ${MAX_TOKENS} tokens about the bundled video (tiny model, ${THREADS} thread)`,
  async run(): Promise<BenchRow[]> {
    const root = mkdtempSync(join(tmpdir(), 'bench-server-'));
    const folder = join(root, 'tiny-onnx');
    const mediaRoot = join(root, 'media');
    const videoFile = join(tinyFixture.video, 'sample_48f_320x240.mp4');
    mkdirSync(mediaRoot);
    copyFileSync(videoFile, join(mediaRoot, 'clip.mp4'));
    const dataUrl = `data:video/mp4;base64,${readFileSync(videoFile).toString('base64')}`;
    await convertCheckpoint(tinyFixture.model, folder, { dtypes: ['fp32'] });
    const model = await VideoLlava.load(folder, { sessionOptions: { threads: THREADS } });
    const server = await createVideoLlavaServer({ model, port: 0, mediaRoot, maxQueue: MAX_QUEUE, log: false });
    try {
      const url = await server.listen();
      const messages = [
        { role: 'user' as const, content: [{ type: 'video' as const }, { type: 'text' as const, text: QUESTION }] },
      ];
      const reference = await model.generate({
        messages,
        videos: [videoFile],
        maxNewTokens: MAX_TOKENS,
        doSample: false,
      });
      const numFrames = model.config.processor.videoProcessor.numFrames;
      const pixels = model.processor.videoProcessor.preprocess(
        await nodePlatform.loadVideo(videoFile, { numFrames }),
      ).pixelValuesVideos;

      // The ceiling: the same answers straight from the library, one after another (prefix cache warm, as the
      // server's is after its first request).
      const directRuns = 4;
      let directMs = 0;
      const direct = async (): Promise<void> => {
        const start = performance.now();
        for (let run = 0; run < directRuns; run++) {
          const answer = await model.generate({
            messages,
            videos: [pixels],
            maxNewTokens: MAX_TOKENS,
            doSample: false,
          });
          if (answer.text !== reference.text)
            throw new Error(`the library's own answer changed: ${JSON.stringify(answer.text)}`);
        }
        directMs += performance.now() - start;
      };
      await direct();

      const ask = async (index: number): Promise<{ status: number; ms: number; retryAfter: number }> => {
        const start = performance.now();
        const response = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'tiny',
            messages: [
              {
                role: 'user',
                content: [
                  { type: 'video_url', video_url: { url: index % 2 === 0 ? dataUrl : 'clip.mp4' } },
                  { type: 'text', text: QUESTION },
                ],
              },
            ],
            temperature: 0,
            max_tokens: MAX_TOKENS,
          }),
          signal: AbortSignal.timeout(REQUEST_LIMIT_MS),
        });
        const body = (await response.json()) as { choices?: { message: { content: string } }[] };
        if (response.status === 200) {
          if (body.choices?.[0]?.message.content !== reference.text)
            throw new Error(
              `request ${index}: answer ${JSON.stringify(body.choices?.[0]?.message.content)}, expected ${JSON.stringify(reference.text)}`,
            );
        } else if (response.status === 429) {
          if (!(Number(response.headers.get('retry-after')) >= 1))
            throw new Error(`request ${index}: 429 without a Retry-After`);
        } else throw new Error(`request ${index}: HTTP ${response.status} ${JSON.stringify(body)}`);
        return {
          status: response.status,
          ms: performance.now() - start,
          retryAfter: Number(response.headers.get('retry-after') ?? 0),
        };
      };

      await ask(0); // warm: decodes the video once, fills the prefix cache
      const results: { status: number; ms: number }[] = [];
      let answeredCount = 0;
      const rss: number[] = [];
      let next = 0;
      const runStart = performance.now();
      const client = async (): Promise<void> => {
        while (answeredCount < ANSWERS && next < MAX_ATTEMPTS && performance.now() - runStart < RUN_LIMIT_MS) {
          const index = next++;
          const result = await ask(index);
          results.push(result);
          if (result.status === 200 && ++answeredCount % 4 === 0) rss.push(process.memoryUsage().rss);
          // A refused client waits as Retry-After says (capped, to keep the run bounded).
          if (result.status === 429) await sleep(Math.min(result.retryAfter * 1000, BACKOFF_LIMIT_MS));
        }
      };
      await Promise.all(Array.from({ length: CLIENTS }, client));
      const seconds = (performance.now() - runStart) / 1000;
      await direct();
      const directPerSecond = (2 * directRuns) / (directMs / 1000);
      if (answeredCount < ANSWERS)
        throw new Error(
          `only ${answeredCount} of ${ANSWERS} answers within ${results.length} requests and ${RUN_LIMIT_MS / 1000} s`,
        );
      const answered = results.filter((result) => result.status === 200);
      const refused = results.length - answered.length;
      if (refused === 0)
        throw new Error(`no request was refused: ${CLIENTS} clients never filled a queue of ${MAX_QUEUE}`);
      const latencies = answered.map((result) => result.ms);
      const quarter = Math.max(1, Math.floor(rss.length / 4));
      const early = median(rss.slice(0, quarter));
      const late = median(rss.slice(-quarter));
      if (late / early > RSS_GROWTH_LIMIT)
        throw new Error(
          `resident memory grew from ${(early / 2 ** 20).toFixed(0)} MiB to ${(late / 2 ** 20).toFixed(0)} MiB under load`,
        );
      const perSecond = answered.length / seconds;
      return [
        {
          name: 'answers per second (200, exact text)',
          value: perSecond,
          unit: 'req/s',
          peer: { name: 'VideoLlava.generate back to back', value: directPerSecond },
          ratio: perSecond / directPerSecond,
          ratioMeaning: 'server / library (higher is better, 1 = no overhead)',
        },
        { name: 'latency p50 of answered requests', value: percentile(latencies, 0.5), unit: 'ms' },
        { name: 'latency p90', value: percentile(latencies, 0.9), unit: 'ms' },
        { name: 'latency p99', value: percentile(latencies, 0.99), unit: 'ms' },
        {
          name: 'refused with 429 (queue full)',
          value: refused,
          unit: 'requests',
          note: `of ${results.length}; ${answered.length} answered`,
        },
        {
          name: 'resident memory, last quarter / first quarter',
          value: late / 2 ** 20,
          unit: 'MiB',
          peer: { name: 'first quarter', value: early / 2 ** 20 },
          ratio: late / early,
          ratioMeaning: `late / early (flat = 1; fails above ${RSS_GROWTH_LIMIT})`,
        },
      ];
    } finally {
      await server.close();
      await model.release();
      rmSync(root, { recursive: true, force: true });
    }
  },
};

export default suite;

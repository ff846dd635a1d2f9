import { spawn } from 'node:child_process';
import { existsSync, renameSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPretrainedConfigFrom } from '@video-llava/config/node';
import { VideoLlavaVideoProcessor, sampleFrameIndices } from '@video-llava/video-processor';
import { loadVideo, probeVideo, resolveFfmpegPath } from '@video-llava/video-processor/node';
import { tinyFixture } from '@video-llava/test-utils';
import { type BenchRow, type BenchSuite, median } from './types.js';

// Milliseconds to get 8 processed frames (pixel_values_videos [1, 8, 3, 224, 224]) out of a 60 s 1080p H.264
// video, the way Video-LLaVA reads a video, against FFmpeg alone in the same run:
// - bare FFmpeg decoding the same 8 frames by index from the start (`select=eq(n,i)`, what loadVideo runs with
//   `seek: false`): the ceiling of any from-the-start decode, so `seek: false` against it is our overhead;
// - a peer: 8 FFmpeg runs seeking to each frame's time (`-ss t -i`: key frame, then decode up to t), the usual way
//   tools grab frames (not frame-exact by index in general).
// The video is made by the bundled FFmpeg at bench time (testsrc2, libx264 veryfast, x264's default key frame
// interval of 250 frames, so seeking can skip about a third of the decoding here; phone videos, with a key frame
// every second or two, gain far more) and kept in the temporary folder for later runs.

const SECONDS = 60;
const RATE = 30;
const WIDTH = 1920;
const HEIGHT = 1080;
const FRAMES = 8;
const ROUNDS = 5;

function run(binary: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let log = '';
    child.stdout.on('data', (chunk: Buffer) => (bytes += chunk.length));
    child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(bytes) : reject(new Error(`${binary} ${args.join(' ')} exited ${code}: ${log.slice(-500)}`)),
    );
  });
}

async function makeVideo(ffmpeg: string): Promise<{ file: string; madeInMs: number | undefined }> {
  const file = join(tmpdir(), `video-llava-bench-${SECONDS}s-${HEIGHT}p-h264.mp4`);
  if (existsSync(file) && statSync(file).size > 0) return { file, madeInMs: undefined };
  const partial = `${file}.partial.mp4`;
  const start = performance.now();
  await run(ffmpeg, [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'],
    ...['-f', 'lavfi', '-i', `testsrc2=duration=${SECONDS}:size=${WIDTH}x${HEIGHT}:rate=${RATE}`],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', partial],
  ]);
  renameSync(partial, file);
  return { file, madeInMs: performance.now() - start };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const suite: BenchSuite = {
  title: `video preprocessing: ms to ${FRAMES} processed frames of a ${SECONDS} s ${HEIGHT}p H.264 video, ours vs FFmpeg alone`,
  async run(): Promise<BenchRow[]> {
    const ffmpeg = await resolveFfmpegPath();
    const { file, madeInMs } = await makeVideo(ffmpeg);
    const config = (await loadPretrainedConfigFrom(tinyFixture.model)).processor.videoProcessor;
    const processor = new VideoLlavaVideoProcessor(config);
    const probe = await probeVideo(file);
    const indices = sampleFrameIndices(probe.totalFrames, FRAMES);
    const frameBytes = probe.width * probe.height * 3;

    const phases = { load: [] as number[], preprocess: [] as number[] };
    // Peak resident memory of this process while ours runs: the frames must never all be in memory at once.
    let peakRss = 0;
    const ours = async (seek = true): Promise<void> => {
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 10);
      try {
        const start = performance.now();
        const video = await loadVideo(file, { numFrames: FRAMES, seek });
        if (!seek) return;
        const loaded = performance.now();
        const { pixelValuesVideos } = processor.preprocess(video);
        phases.load.push(loaded - start);
        phases.preprocess.push(performance.now() - loaded);
        if (pixelValuesVideos.dims[1] !== FRAMES || video.indices.join() !== indices.join())
          throw new Error('unexpected frames');
      } finally {
        clearInterval(sampler);
      }
    };
    const bareSelect = async (): Promise<void> => {
      const select = `select='${indices.map((index) => `eq(n\\,${index})`).join('+')}'`;
      const bytes = await run(ffmpeg, [
        '-hide_banner',
        '-nostdin',
        '-nostats',
        '-i',
        file,
        '-map',
        '0:v:0',
        '-vf',
        select,
        '-vsync',
        '0',
        '-frames:v',
        String(FRAMES),
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        'pipe:1',
      ]);
      if (bytes !== frameBytes * FRAMES) throw new Error(`bare FFmpeg gave ${bytes} bytes`);
    };
    const seekEach = async (): Promise<void> => {
      for (const index of indices) {
        const seconds = (index / (probe.fps ?? RATE)).toFixed(6);
        const bytes = await run(ffmpeg, [
          '-hide_banner',
          '-nostdin',
          '-loglevel',
          'error',
          '-ss',
          seconds,
          '-i',
          file,
          '-map',
          '0:v:0',
          '-frames:v',
          '1',
          '-f',
          'rawvideo',
          '-pix_fmt',
          'rgb24',
          'pipe:1',
        ]);
        if (bytes !== frameBytes) throw new Error(`seeking FFmpeg gave ${bytes} bytes`);
      }
    };

    // Interleaved rounds, so that all three see the same machine load; a first untimed round warms caches.
    await ours();
    phases.load.length = 0;
    phases.preprocess.length = 0;
    const times = { ours: [] as number[], oursFromStart: [] as number[], bare: [] as number[], seek: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      times.ours.push(await timed(() => ours()));
      times.oursFromStart.push(await timed(() => ours(false)));
      times.bare.push(await timed(bareSelect));
      times.seek.push(await timed(seekEach));
    }
    const oursMs = median(times.ours);
    const oursFromStartMs = median(times.oursFromStart);
    const bareMs = median(times.bare);
    const seekMs = median(times.seek);
    const video = `${probe.totalFrames} frames ${probe.width}x${probe.height} ${probe.codec}, frames ${indices.join(',')}`;
    const made =
      madeInMs === undefined
        ? 'video reused from the temporary folder'
        : `video made in ${(madeInMs / 1000).toFixed(1)} s`;
    const outputMiB = (frameBytes * FRAMES) / 2 ** 20;
    return [
      {
        name: `loadVideo + VideoLlavaVideoProcessor, ${FRAMES} frames (${video})`,
        value: oursMs,
        unit: 'ms',
        peer: {
          name: 'bare FFmpeg decoding the same frames by index from the start (select=eq(n,i), rgb24 to a pipe)',
          value: bareMs,
        },
        ratio: oursMs / bareMs,
        ratioMeaning: 'ours / bare FFmpeg (lower is better; under 1 thanks to seeking to key frames)',
        note:
          `load ${median(phases.load).toFixed(0)} ms + preprocess ${median(phases.preprocess).toFixed(0)} ms; ` +
          `peak RSS of the bench process ${(peakRss / 2 ** 20).toFixed(0)} MiB (${outputMiB.toFixed(0)} MiB of RGB frames kept; ` +
          `the whole video decoded would be ${((probe.totalFrames * frameBytes) / 2 ** 30).toFixed(1)} GiB); ${made}; median of ${ROUNDS}`,
      },
      {
        name: 'the same, against seeking FFmpeg once per frame',
        value: oursMs,
        unit: 'ms',
        peer: { name: `${FRAMES} x FFmpeg -ss t -i (key frame, then decode up to t)`, value: seekMs },
        ratio: oursMs / seekMs,
        ratioMeaning: 'ours / peer (lower is better)',
      },
      {
        name: 'loadVideo with seek: false (decoding from the start), against its ceiling',
        value: oursFromStartMs,
        unit: 'ms',
        peer: { name: 'the same bare FFmpeg decode by index from the start', value: bareMs },
        ratio: oursFromStartMs / bareMs,
        ratioMeaning: 'ours / ceiling (1 = no overhead: probe, pipe into JavaScript)',
      },
    ];
  },
};

export default suite;

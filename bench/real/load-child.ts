// One load of our model's four parts, in its own process, and nothing else: how long `VideoLlava.load` takes with
// and without onnxruntime's prepacked weights kept on disk (@video-llava/runtime-node's `prepackedCache`).
//   node --conditions=@video-llava/source --import tsx real/load-child.ts <json args>
// Prints one JSON line (prefixed `RESULT `) on stdout.
import { createNodeBackend } from '@video-llava/runtime-node';
import { VideoLlava } from 'video-llava';

interface LoadChildArgs {
  folder: string;
  dtype: string;
  threads: number;
  /** The prepacked cache (`true`: beside the ONNX files); none when left out. */
  prepackedCache?: boolean | string;
}

const args = JSON.parse(process.argv[2]!) as LoadChildArgs;
let wrote = 0;
const started = performance.now();
const model = await VideoLlava.load(args.folder, {
  dtype: args.dtype as never,
  sessionOptions: { threads: args.threads },
  preload: ['embed_tokens', 'decoder_model_merged', 'video_encoder', 'image_encoder'],
  prefixCache: false,
  backend: createNodeBackend(args.prepackedCache === undefined ? {} : { prepackedCache: args.prepackedCache }),
  onProgress: (event) => {
    if (event.stage === 'prepack' && event.done === 1) wrote++;
  },
});
const loadMs = performance.now() - started;
await model.release();
process.stdout.write(
  `RESULT ${JSON.stringify({ loadMs, prepackedEntriesWritten: wrote, peakRssGiB: process.resourceUsage().maxRSS / 2 ** 20 })}\n`,
);

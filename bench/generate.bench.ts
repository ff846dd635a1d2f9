import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertCheckpoint } from '@video-llava/converter/node';
import { positionIdsFromAttentionMask } from '@video-llava/model';
import { tinyFixture } from '@video-llava/test-utils';
import { loadVideo } from '@video-llava/video-processor/node';
import * as ort from 'onnxruntime-node';
import { VideoLlava } from 'video-llava';
import { median, medianMs, type BenchRow, type BenchSuite } from './types.js';

// One answer of the tiny fixture model (converted to fp32 here) about the bundled MP4, split into its stages:
// decode the video (FFmpeg, 8 frames), preprocess it (torchvision-exact resize, normalize), encode it (CLIP + projector),
// prefill the 2074-token prompt, then each new token. Every stage is also shown as its share of the whole answer,
// measured in the same run. The decoding loop's own cost per token (generation loop, feed checks, detokenizer) is
// the ratio of our time per token to a bare onnxruntime-node loop (embed, decoder with the KV cache, argmax) doing
// the same steps with the same sessions settings.
const NEW_TOKENS = 33;
const THREADS = 1;
const PROMPT = 'USER: <video>\nWhy is this funny? ASSISTANT:';
const ROUNDS = 5;

function argmax(data: Float32Array): number {
  let best = 0;
  for (let index = 1; index < data.length; index++) if (data[index]! > data[best]!) best = index;
  return best;
}

const suite: BenchSuite = {
  title: `generate: one answer of the tiny model about the bundled video (${NEW_TOKENS} tokens, ${THREADS} thread; per token: median step of ${ROUNDS} interleaved rounds)`,
  async run(): Promise<BenchRow[]> {
    const root = mkdtempSync(join(tmpdir(), 'bench-generate-'));
    const folder = join(root, 'tiny-onnx');
    const videoFile = join(tinyFixture.video, 'sample_48f_320x240.mp4');
    try {
      await convertCheckpoint(tinyFixture.model, folder, { dtypes: ['fp32'] });
      const model = await VideoLlava.load(folder, {
        sessionOptions: { threads: THREADS },
        prefixCache: false,
        preload: ['embed_tokens', 'decoder_model_merged', 'video_encoder'],
      });
      const numFrames = model.config.processor.videoProcessor.numFrames;

      // The whole answer, from the file.
      const answerMs = await medianMs(
        () => model.generate({ prompt: PROMPT, videos: [videoFile], maxNewTokens: NEW_TOKENS, doSample: false }),
        3,
        1,
      );
      // The stages on their own.
      const decodeMs = await medianMs(() => loadVideo(videoFile, { numFrames }), 5, 1);
      const video = await loadVideo(videoFile, { numFrames });
      const preprocessMs = await medianMs(() => model.processor.videoProcessor.preprocess(video), 5, 1);
      const pixelValuesVideos = model.processor.videoProcessor.preprocess(video).pixelValuesVideos;
      const encodeMs = await medianMs(() => model.model.encodeVideos(pixelValuesVideos), 5, 1);
      const inputs = model.processor({ text: PROMPT, pixelValuesVideos });
      const embeds = await model.model.inputEmbeddings({ inputIds: inputs.inputIds, pixelValuesVideos });
      const promptLength = inputs.inputIds.dims[1]!;
      const prefillMs = await medianMs(
        async () =>
          model.model.runDecoder({
            inputsEmbeds: embeds,
            attentionMask: inputs.attentionMask,
            positionIds: positionIdsFromAttentionMask(inputs.attentionMask, promptLength),
            cache: await model.model.emptyCache(1),
            lastPositionOnly: true,
          }),
        3,
        1,
      );

      // The peer: the same steps on bare onnxruntime-node sessions (same files, same threads).
      const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: THREADS, logSeverityLevel: 3 };
      const embed = await ort.InferenceSession.create(join(folder, 'onnx/embed_tokens.onnx'), options);
      const decoder = await ort.InferenceSession.create(join(folder, 'onnx/decoder_model_merged.onnx'), options);
      const text = model.config.model.textConfig;
      const pastNames = decoder.inputNames.filter((name) => name.startsWith('past_key_values.'));
      // Our decoders compute the logits of the last position only when asked (`num_logits_to_keep`: 1).
      const lastLogitsOnly: Record<string, ort.Tensor> = decoder.inputNames.includes('num_logits_to_keep')
        ? { num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(1n), []) }
        : {};
      /** The bare loop's time of each step after the prefill, in ms. */
      const bareLoop = async (): Promise<number[]> => {
        const past: Record<string, ort.Tensor> = {};
        for (const name of pastNames)
          past[name] = new ort.Tensor('float32', new Float32Array(0), [1, text.numKeyValueHeads, 0, text.headDim]);
        const prefill = await decoder.run({
          inputs_embeds: new ort.Tensor('float32', embeds.data, [...embeds.dims]),
          attention_mask: new ort.Tensor('int64', inputs.attentionMask.data, [1, promptLength]),
          position_ids: new ort.Tensor('int64', positionIdsFromAttentionMask(inputs.attentionMask, promptLength).data, [
            1,
            promptLength,
          ]),
          ...lastLogitsOnly,
          ...past,
        });
        const all = prefill.logits!.data as Float32Array;
        let token = argmax(all.subarray(all.length - text.vocabSize));
        for (const name of pastNames) past[name] = prefill[name.replace('past_key_values.', 'present.')]!;
        const times: number[] = [];
        for (let step = 1; step < NEW_TOKENS; step++) {
          const start = performance.now();
          const length = promptLength + step;
          const { inputs_embeds } = await embed.run({
            input_ids: new ort.Tensor('int64', BigInt64Array.of(BigInt(token)), [1, 1]),
          });
          const outputs = await decoder.run({
            inputs_embeds: inputs_embeds!,
            attention_mask: new ort.Tensor('int64', new BigInt64Array(length).fill(1n), [1, length]),
            position_ids: new ort.Tensor('int64', BigInt64Array.of(BigInt(length - 1)), [1, 1]),
            ...lastLogitsOnly,
            ...past,
          });
          for (const name of pastNames) past[name] = outputs[name.replace('past_key_values.', 'present.')]!;
          token = argmax(outputs.logits!.data as Float32Array);
          times.push(performance.now() - start);
        }
        return times;
      };
      /** Our time of each step after the prefill (between the loop's step hooks), in ms. */
      const oursLoop = async (): Promise<number[]> => {
        const stamps: number[] = [];
        await model.generate({
          prompt: PROMPT,
          videos: [pixelValuesVideos],
          maxNewTokens: NEW_TOKENS,
          doSample: false,
          onStep: (step) => void (stamps[step.step] = performance.now()),
        });
        return stamps.slice(1).map((stamp, index) => stamp - stamps[index]!);
      };
      // Interleaved rounds, the median step of each side: the machine's noise hits both alike.
      await bareLoop();
      await oursLoop();
      const bareSteps: number[] = [];
      const oursSteps: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        bareSteps.push(...(await bareLoop()));
        oursSteps.push(...(await oursLoop()));
      }
      const barePerToken = median(bareSteps);
      const oursPerToken = median(oursSteps);
      await Promise.all([embed.release(), decoder.release()]);
      await model.release();

      const answer = { name: `the whole answer (${NEW_TOKENS} tokens)`, value: answerMs };
      const share = (name: string, value: number, note?: string): BenchRow => ({
        name,
        value,
        unit: 'ms',
        peer: answer,
        ratio: value / answerMs,
        ratioMeaning: 'share of the whole answer',
        ...(note ? { note } : {}),
      });
      return [
        share('decode video (FFmpeg, 8 of 48 frames, 320x240)', decodeMs),
        share('preprocess video (resize, crop, normalize to [1,8,3,224,224])', preprocessMs),
        share('encode video (CLIP tower + projector, 8 frames)', encodeMs),
        share(`prefill (${promptLength} prompt tokens)`, prefillMs),
        share('one new token (embed + decoder step + loop)', oursPerToken),
        {
          name: 'decoding loop per token: ours vs bare onnxruntime-node steps',
          value: oursPerToken,
          unit: 'ms',
          peer: { name: 'bare embed + decoder + argmax', value: barePerToken },
          ratio: oursPerToken / barePerToken,
          ratioMeaning: 'ours / bare (1 = no overhead; the excess is the loop, feed checks and detokenizer)',
          note: `overhead ${(oursPerToken - barePerToken).toFixed(3)} ms per token`,
        },
      ];
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
};

export default suite;

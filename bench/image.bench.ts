import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadPretrainedConfigFrom } from '@video-llava/config/node';
import { VideoLlavaImageProcessor, getResizeSize, type RawImage } from '@video-llava/image-processor';
import { loadImage } from '@video-llava/image-processor/node';
import { tinyFixture } from '@video-llava/test-utils';
import sharp from 'sharp';
import { median, medianMs, type BenchRow, type BenchSuite } from './types.js';

// Images per second of the full VideoLlavaImageProcessor path (PIL-exact bicubic, crop, rescale, normalize to
// float32 CHW) on the nine fixture images, against sharp (libvips, native, multi-threaded) resizing the same
// images with its own bicubic (`kernel: 'cubic'`) to the same size and cropping them, in the same run.
const suite: BenchSuite = {
  title: 'image preprocessing: images per second, ours vs sharp resize',
  async run(): Promise<BenchRow[]> {
    const config = (await loadPretrainedConfigFrom(tinyFixture.model)).processor.imageProcessor;
    const processor = new VideoLlavaImageProcessor(config);
    const files = readdirSync(tinyFixture.images).sort();
    const bytes = files.map((file) => new Uint8Array(readFileSync(join(tinyFixture.images, file))));
    const decoded: RawImage[] = await Promise.all(bytes.map((data, index) => loadImage(data, { name: files[index] })));
    // The size each image is resized to before the crop, as the processor computes it.
    const targets = decoded.map((image) => {
      const resized = processor.prepareImage(image);
      return { resizedTo: getResizeSize(image, config.size), crop: { width: resized.width, height: resized.height } };
    });
    const count = files.length;

    const sharpFromRaw = async () => {
      for (const [index, image] of decoded.entries()) {
        const { resizedTo, crop } = targets[index]!;
        await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
          .resize(resizedTo.width, resizedTo.height, { kernel: 'cubic', fit: 'fill' })
          .extract({
            left: Math.floor((resizedTo.width - crop.width) / 2),
            top: Math.floor((resizedTo.height - crop.height) / 2),
            width: crop.width,
            height: crop.height,
          })
          .raw()
          .toBuffer();
      }
    };
    const oursFromRaw = () => {
      for (const image of decoded) processor.preprocess(image);
    };
    const sharpFromFile = async () => {
      for (const [index, data] of bytes.entries()) {
        const { resizedTo, crop } = targets[index]!;
        await sharp(data)
          .resize(resizedTo.width, resizedTo.height, { kernel: 'cubic', fit: 'fill' })
          .extract({
            left: Math.floor((resizedTo.width - crop.width) / 2),
            top: Math.floor((resizedTo.height - crop.height) / 2),
            width: crop.width,
            height: crop.height,
          })
          .removeAlpha()
          .raw()
          .toBuffer();
      }
    };
    const oursFromFile = async () => {
      for (const [index, data] of bytes.entries()) processor.preprocess(await loadImage(data, { name: files[index] }));
    };

    const rows: BenchRow[] = [];
    const threads = sharp.concurrency();
    for (const [name, ours, peer] of [
      ['preprocess (decoded pixels in, float32 [1,3,H,W] out)', oursFromRaw, sharpFromRaw],
      ['decode + preprocess (file bytes in)', oursFromFile, sharpFromFile],
    ] as const) {
      // Interleaved, so that both sides see the same machine load; each timing covers several passes over the
      // images (a pass takes only milliseconds, too short to time alone on a busy machine).
      const passes = 8;
      const repeated = (fn: () => unknown) => async () => {
        for (let pass = 0; pass < passes; pass++) await fn();
      };
      const oursTimes: number[] = [];
      const peerTimes: number[] = [];
      for (let round = 0; round < 9; round++) {
        oursTimes.push((await medianMs(repeated(ours), 1, round === 0 ? 1 : 0)) / passes);
        peerTimes.push((await medianMs(repeated(peer), 1, round === 0 ? 1 : 0)) / passes);
      }
      const oursMs = median(oursTimes);
      const peerMs = median(peerTimes);
      const oursRate = (count * 1000) / oursMs;
      const peerRate = (count * 1000) / peerMs;
      rows.push({
        name: `${name}, ${count} fixture images`,
        value: oursRate,
        unit: 'images/s',
        peer: { name: `sharp resize kernel cubic + crop (${threads} libvips threads)`, value: peerRate },
        ratio: oursRate / peerRate,
        ratioMeaning: 'ours / sharp (higher is better)',
        note: 'ours is PIL-exact in pure TypeScript and also rescales and normalizes; sharp is approximate and native',
      });
    }
    return rows;
  },
};

export default suite;

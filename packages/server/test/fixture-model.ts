import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertCheckpoint } from '@video-llava/converter/node';
import { tinyFixture } from '@video-llava/test-utils';
import { convertedFixture } from '@video-llava/test-utils/converted-fixture';
import { VideoLlava } from 'video-llava';

/** The fixture's video file. */
export const fixtureVideo = join(tinyFixture.video, 'sample_48f_320x240.mp4');
/** A fixture image (PNG). */
export const fixtureImage = join(tinyFixture.images, 'small_100x80.png');

/** `data:<type>;base64,...` of a file. */
export function dataUrl(file: string, type: string): string {
  return `data:${type};base64,${readFileSync(file).toString('base64')}`;
}

/** The fp32 conversion of the tiny fixture model (converted once per test run). */
export function fixtureModelFolder(): Promise<string> {
  return convertedFixture((checkpoint, output) => convertCheckpoint(checkpoint, output, { dtypes: ['fp32'] }));
}

/** The converted fixture loaded on one thread (the tiny model gains nothing from more, and CI has two cores). */
export async function loadFixtureModel(): Promise<VideoLlava> {
  return VideoLlava.load(await fixtureModelFolder(), { sessionOptions: { threads: 1 } });
}

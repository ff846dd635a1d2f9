import { convertCheckpoint } from '@video-llava/converter/node';
import { convertedFixture as sharedConvertedFixture } from '@video-llava/test-utils/converted-fixture';

/**
 * fixtures/video-llava-tiny/model converted to ONNX (fp32), converted once per test run and shared by every test
 * file (see @video-llava/test-utils/converted-fixture).
 */
export function convertedFixture(): Promise<string> {
  return sharedConvertedFixture((checkpoint, output) => convertCheckpoint(checkpoint, output, { dtypes: ['fp32'] }));
}

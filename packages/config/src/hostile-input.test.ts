import {
  anyJson,
  fc,
  hostileParameters,
  mutatedBytes,
  mutatedJson,
  parsesOrFailsCleanly,
} from '@video-llava/test-utils/hostile';
import { describe, expect, it } from 'vitest';
import { tinyJson, v4Json } from '../test/fixture-paths.js';
import { deriveValues } from './derived.js';
import { parseJsonText } from './field-reader.js';
import { parseGenerationConfig } from './generation-config.js';
import { parseModelConfig } from './model-config.js';
import { parseProcessorConfig } from './processor-config.js';

// The hostile-input suite for the config readers (see @video-llava/test-utils/hostile): the fixture's files with
// their values replaced by anything (wrong types, huge, negative, missing) parse or fail with a VideoLlavaError of a
// known code naming the file; what parses has the invariants the rest of the code relies on.

const configJson = tinyJson('config.json');
const generationJson = tinyJson('generation_config.json');
const processorJson = tinyJson('processor_config.json');
const v4ConfigJson = v4Json('config.json');
const v4PreprocessorJson = v4Json('preprocessor_config.json');
const validModel = parseModelConfig(configJson);

const configCodes = ['INVALID_CONFIG', 'UNSUPPORTED', 'FILE_NOT_FOUND', 'INVALID_JSON'];

function positiveInteger(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0;
}

describe('hostile input: config readers', () => {
  it('config.json (v5 and v4 layouts) parses with sane sizes or fails naming config.json', () => {
    fc.assert(
      fc.property(fc.oneof(mutatedJson(configJson), mutatedJson(v4ConfigJson), anyJson()), (json) => {
        const outcome = parsesOrFailsCleanly('parseModelConfig', () => parseModelConfig(json));
        if (!outcome.ok) {
          expect(configCodes).toContain(outcome.error.code);
          expect(outcome.error.file).toBe('config.json');
          return;
        }
        const text = outcome.value.textConfig;
        for (const size of [
          text.hiddenSize,
          text.vocabSize,
          text.numHiddenLayers,
          text.numAttentionHeads,
          text.numKeyValueHeads,
          text.headDim,
          text.maxPositionEmbeddings,
        ]) {
          expect(positiveInteger(size), JSON.stringify(text)).toBe(true);
        }
      }),
      hostileParameters(600),
    );
  });

  it('generation_config.json parses or fails naming it', () => {
    fc.assert(
      fc.property(fc.oneof(mutatedJson(generationJson), anyJson()), (json) => {
        const outcome = parsesOrFailsCleanly('parseGenerationConfig', () =>
          parseGenerationConfig(json, 'generation_config.json', validModel),
        );
        if (!outcome.ok) {
          expect(configCodes).toContain(outcome.error.code);
          expect(outcome.error.file).toBe('generation_config.json');
        }
      }),
      hostileParameters(600),
    );
  });

  it('processor_config.json (v5) and preprocessor_config.json (v4) parse, with token counts that derive, or fail naming the file', () => {
    const files = fc.oneof(
      mutatedJson(processorJson).map((processorConfig) => ({ processorConfig })),
      mutatedJson(v4PreprocessorJson).map((preprocessorConfig) => ({ preprocessorConfig })),
      fc.record({ processorConfig: anyJson(), preprocessorConfig: fc.option(anyJson(), { nil: undefined }) }),
    );
    fc.assert(
      fc.property(files, (input) => {
        const outcome = parsesOrFailsCleanly('parseProcessorConfig', () => {
          const processor = parseProcessorConfig(input, validModel);
          return { processor, derived: deriveValues(validModel, processor) };
        });
        if (!outcome.ok) {
          expect(configCodes).toContain(outcome.error.code);
          expect(outcome.error.file ?? '').toMatch(/processor_config\.json|preprocessor_config\.json/);
          return;
        }
        const { processor, derived } = outcome.value;
        expect(positiveInteger(processor.videoProcessor.numFrames)).toBe(true);
        expect(positiveInteger(derived.tokensPerFrame)).toBe(true);
        expect(derived.tokensPerImage).toBeGreaterThanOrEqual(0);
      }),
      hostileParameters(600),
    );
  });

  it('JSON text: any bytes as UTF-8 parse to an object or fail with INVALID_JSON naming the file', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 80 }),
      mutatedBytes(new TextEncoder().encode(JSON.stringify(configJson))).map((bytes) =>
        new TextDecoder().decode(bytes),
      ),
    );
    fc.assert(
      fc.property(text, (input) => {
        const outcome = parsesOrFailsCleanly('parseJsonText', () => parseJsonText(input, 'config.json'));
        if (!outcome.ok) {
          expect(['INVALID_JSON', 'INVALID_CONFIG']).toContain(outcome.error.code);
          expect(outcome.error.file).toBe('config.json');
        } else expect(typeof outcome.value).toBe('object');
      }),
      hostileParameters(600),
    );
  });
});

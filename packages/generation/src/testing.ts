export { MockLanguageModel, hashedLogits } from './testing/mock-language-model.js';
export type { MockCache, MockLanguageModelOptions } from './testing/mock-language-model.js';

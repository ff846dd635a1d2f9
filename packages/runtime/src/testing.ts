export { describeBackendConformance } from './testing/conformance-suite.js';
export type { ConformanceTarget, FileLocator } from './testing/conformance-suite.js';
export { buildConformanceModels } from './testing/conformance-models.js';
export type { ConformanceModels, MatMulWeights } from './testing/conformance-models.js';
export { createMockBackend } from './testing/mock-backend.js';
export type {
  MockBackend,
  MockBackendOptions,
  MockModel,
  MockRunContext,
  MockRunRecord,
} from './testing/mock-backend.js';
export { expectRejection } from './testing/expect-rejection.js';
export { expectMatMulOutput } from './testing/expect-mat-mul-output.js';
export { releaseSessionsAfterEach } from './testing/release-sessions-after-each.js';
export { buildQ4MatMulChain } from './testing/q4-matmul-chain.js';
export { IN_PLACE_ATTENTION, buildInPlaceModels } from './testing/in-place-models.js';
export type { InPlaceModels } from './testing/in-place-models.js';

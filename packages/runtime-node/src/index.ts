export { createNodeBackend } from './node-backend.js';
export type { NodeBackendOptions } from './node-backend.js';
export { PREPACKED_FOLDER } from './prepacked-cache.js';
export type { PrepackedCacheOptions } from './prepacked-cache.js';
export { cudaProviderLibrary, isCudaProviderInstalled } from './cuda-libraries.js';
export { createInplaceSession, isInplaceRunnerAvailable, loadInplaceRunner } from './inplace-session.js';
export type { InplaceSession, InplaceSessionOptions, InplaceValueMetadata } from './inplace-session.js';

export { createNodeBackend } from './node-backend.js';
export type { NodeBackendOptions } from './node-backend.js';
export { cudaProviderLibrary, isCudaProviderInstalled } from './cuda-libraries.js';

export { createWebBackend } from './web-backend.js';
export type { WebBackendOptions } from './web-backend.js';
export type { OnnxruntimeWeb } from './load-onnxruntime-web.js';

import { describeBackendConformance } from '@video-llava/runtime/testing';
import { createWebBackend } from '../src/index.js';
import { temporaryFolders } from '@video-llava/test-utils';

describeBackendConformance('onnxruntime-web in Node.js (wasm)', () => {
  const folders = temporaryFolders('video-llava-runtime-web-');
  return {
    backend: createWebBackend({ threads: 1 }),
    placeFiles: folders.place,
    sessionOptions: { executionProviders: ['wasm'] },
    expectedExecutionProvider: 'wasm',
    expectedDevice: 'cpu',
    close: folders.removeAll,
  };
});

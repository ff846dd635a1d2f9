import { describeBackendConformance } from '@video-llava/runtime/testing';
import { createWebBackend } from '../src/index.js';
import { temporaryFolders } from './temporary-folders.js';

describeBackendConformance('onnxruntime-web in Node.js (wasm)', () => {
  const folders = temporaryFolders();
  return {
    backend: createWebBackend({ threads: 1 }),
    placeFiles: folders.place,
    sessionOptions: { executionProviders: ['wasm'] },
    expectedExecutionProvider: 'wasm',
    expectedDevice: 'cpu',
    close: folders.removeAll,
  };
});

import { describeBackendConformance } from '@video-llava/runtime/testing';
import { createNodeBackend } from '../src/index.js';
import { temporaryFolders } from '@video-llava/test-utils';

describeBackendConformance('onnxruntime-node (cpu)', () => {
  const folders = temporaryFolders('video-llava-runtime-node-');
  return {
    backend: createNodeBackend(),
    placeFiles: folders.place,
    sessionOptions: { executionProviders: ['cpu'] },
    expectedExecutionProvider: 'cpu',
    expectedDevice: 'cpu',
    close: folders.removeAll,
  };
});

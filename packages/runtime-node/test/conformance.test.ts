import { describeBackendConformance } from '@video-llava/runtime/testing';
import { createNodeBackend } from '../src/index.js';
import { temporaryFolders } from './temporary-folders.js';

describeBackendConformance('onnxruntime-node (cpu)', () => {
  const folders = temporaryFolders();
  return {
    backend: createNodeBackend(),
    placeFiles: folders.place,
    sessionOptions: { executionProviders: ['cpu'] },
    expectedExecutionProvider: 'cpu',
    expectedDevice: 'cpu',
    close: folders.removeAll,
  };
});

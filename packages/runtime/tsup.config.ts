import { defineLibraryConfig } from '@video-llava/tsup-config';

export default defineLibraryConfig(['src/index.ts', 'src/testing.ts', 'src/ort.ts']);

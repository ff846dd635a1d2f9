import { defineLibraryConfig } from '@video-llava/tsup-config';

export default defineLibraryConfig(['src/index.ts']);

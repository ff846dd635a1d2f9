import { defineLibraryConfig } from '@video-llava/tsup-config';

export default defineLibraryConfig(['src/index.ts', 'src/node.ts']);

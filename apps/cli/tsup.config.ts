import { defineLibraryConfig } from '@video-llava/tsup-config';

export default defineLibraryConfig(['src/bin.ts'], {
  platform: 'node',
  dts: false,
  banner: { js: '#!/usr/bin/env node' },
});

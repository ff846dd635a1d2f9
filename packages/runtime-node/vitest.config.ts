import { defineTestConfig } from '@video-llava/vitest-config';

export default defineTestConfig({ test: { globalSetup: ['test/build-native.ts'] } });

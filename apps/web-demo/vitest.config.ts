import { defineTestConfig } from '@video-llava/vitest-config';

export default defineTestConfig({ test: { testTimeout: 300_000 } });

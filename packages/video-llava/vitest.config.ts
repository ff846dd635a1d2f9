import { defineTestConfig } from '@video-llava/vitest-config';

export default defineTestConfig({ test: { globalSetup: ['@video-llava/test-utils/converted-fixture/setup'] } });

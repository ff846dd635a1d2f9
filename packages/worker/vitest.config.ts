import { defineTestConfig } from '@video-llava/vitest-config';

export default defineTestConfig();

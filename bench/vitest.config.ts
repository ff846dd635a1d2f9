import { defineTestConfig } from '@video-llava/vitest-config';

// The GGUF writer's unit tests (bench/real/*.test.ts); the benchmarks themselves run through `pnpm bench`.
export default defineTestConfig({ test: { include: ['real/**/*.test.ts'] } });

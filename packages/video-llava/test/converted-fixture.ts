import { inject } from 'vitest';

/** The folder test/global-setup.ts converted the fixture checkpoint into (fp32, a complete model folder). */
export function convertedFixture(): string {
  return (inject as unknown as (key: string) => string)('tinyModelFp32');
}

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VIDEO_LLAVA_ERROR_CODES } from '@video-llava/core';

// docs/errors.md explains every error code (cause, what to do) and every warning code; it cannot fall behind.
const page = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../../docs/errors.md'), 'utf8');
const documented = [...page.matchAll(/^### `([A-Z_]+)`$/gm)].map((match) => match[1]);

describe('docs/errors.md', () => {
  it('has a section with a cause and a remedy for every error code, and no code that does not exist', () => {
    const errors = documented.slice(0, documented.indexOf('FRAMES_REPEATED'));
    expect([...errors].sort()).toEqual([...VIDEO_LLAVA_ERROR_CODES].sort());
    for (const code of VIDEO_LLAVA_ERROR_CODES) {
      const section = page.slice(page.indexOf(`### \`${code}\``)).split(/\n### /)[0]!;
      expect(section, code).toMatch(/\*\*Cause\*\*/);
      expect(section, code).toMatch(/\*\*What to do\*\*/);
    }
  });

  it('documents the warning codes, each with a cause and a remedy', () => {
    const warnings = documented.slice(documented.indexOf('FRAMES_REPEATED'));
    expect(warnings).toEqual(['FRAMES_REPEATED', 'MEDIA_DAMAGED', 'PREPACK_CACHE_SKIPPED', 'PREPACK_CACHE_INVALID']);
    for (const code of warnings) {
      const section = page.slice(page.indexOf(`### \`${code}\``)).split(/\n### /)[0]!;
      expect(section, code).toMatch(/\*\*Cause\*\*/);
      expect(section, code).toMatch(/\*\*What to do\*\*/);
    }
  });
});

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tinyFixture } from '@video-llava/test-utils';

/** The hand-written v4-layout copy with LanguageBind/Video-LLaVA-7B-hf's dimensions. */
export const v4Fixture = resolve(dirname(fileURLToPath(import.meta.url)), 'fixtures/video-llava-7b-v4');

/** A JSON file of the tiny (v5-layout) fixture checkpoint, parsed. */
export function tinyJson(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(resolve(tinyFixture.model, name), 'utf8')) as Record<string, unknown>;
}

/** A JSON file of the v4 fixture, parsed. */
export function v4Json(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(resolve(v4Fixture, name), 'utf8')) as Record<string, unknown>;
}

/** A deep copy with `edit` applied. */
export function edited<T>(value: T, edit: (copy: T) => void): T {
  const copy = structuredClone(value);
  edit(copy);
  return copy;
}

import { VideoLlavaError } from '@video-llava/core';

/** A Hugging Face model repository and, when given, a revision. */
export interface HubId {
  /** `org/name` (or `name` for the few repositories without an owner). */
  repo: string;
  /** Branch, tag or commit hash; undefined when the id did not say. */
  revision: string | undefined;
}

const REPO_PATTERN = /^(?:[A-Za-z0-9][\w.-]*\/)?[A-Za-z0-9][\w.-]{0,95}$/;

/** True when `value` has the shape of a hub id: `org/name`, optionally `@revision`, optionally `hf://` in front. */
export function looksLikeHubId(value: string): boolean {
  const body = value.startsWith('hf://') ? value.slice('hf://'.length) : value;
  const at = body.indexOf('@');
  const repo = at === -1 ? body : body.slice(0, at);
  return (
    repo.includes('/') &&
    REPO_PATTERN.test(repo) &&
    !repo.includes('--') &&
    !repo.includes('..') &&
    (at === -1 || body.length > at + 1)
  );
}

/**
 * Splits `org/name@revision` (the `@revision` and a leading `hf://` are optional).
 *
 * @throws VideoLlavaError `INVALID_ARGUMENT` naming the id when it is not a valid repository id
 */
export function parseHubId(id: string): HubId {
  const body = id.startsWith('hf://') ? id.slice('hf://'.length) : id;
  const at = body.indexOf('@');
  const repo = at === -1 ? body : body.slice(0, at);
  const revision = at === -1 ? undefined : body.slice(at + 1);
  if (!REPO_PATTERN.test(repo) || repo.includes('--') || repo.includes('..') || revision === '') {
    throw new VideoLlavaError('INVALID_ARGUMENT', `${JSON.stringify(id)} is not a Hugging Face repository id.`, {
      field: 'repo',
      expected: '"org/name" or "org/name@revision" (letters, digits, "-", "_", "."; no "--" or "..")',
      actual: id,
    });
  }
  return { repo, revision };
}

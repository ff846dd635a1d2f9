import { VideoLlavaError } from '@video-llava/core';
import { describe, expect, it } from 'vitest';
import { mediaKeyOfJob, parseBatchJob, parseBatchJobLines, requestOfJob } from './batch-job.js';
import { queueJobId } from './queue-connection.js';

function failure(run: () => unknown): VideoLlavaError {
  try {
    run();
  } catch (error) {
    expect(VideoLlavaError.isInstance(error), String(error)).toBe(true);
    return error as VideoLlavaError;
  }
  throw new Error('expected a VideoLlavaError');
}

describe('parseBatchJob', () => {
  it('normalizes: integer ids to strings, one media path to a list, options kept as given', () => {
    expect(
      parseBatchJob({
        id: 7,
        question: 'Why?',
        videos: 'a.mp4',
        maxNewTokens: 16,
        doSample: false,
        stopStrings: 'END',
      }),
    ).toEqual({
      id: '7',
      question: 'Why?',
      videos: ['a.mp4'],
      maxNewTokens: 16,
      doSample: false,
      stopStrings: ['END'],
    });
  });

  it('refuses unknown fields (a misspelt option), naming them', () => {
    const error = failure(() => parseBatchJob({ id: 'a', question: 'Q', max_new_tokens: 3 }, 'jobs.jsonl line 2'));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.field).toBe('max_new_tokens');
    expect(error.message).toContain('jobs.jsonl line 2');
  });

  it('wants exactly one of question, prompt and messages', () => {
    expect(failure(() => parseBatchJob({ id: 'a' })).message).toContain('found none');
    expect(failure(() => parseBatchJob({ id: 'a', question: 'Q', prompt: 'P' })).message).toContain(
      'question and prompt',
    );
  });

  it('checks the types of the id, media and options', () => {
    expect(failure(() => parseBatchJob({ id: '', question: 'Q' })).field).toBe('id');
    expect(failure(() => parseBatchJob({ id: 1.5, question: 'Q' })).field).toBe('id');
    expect(failure(() => parseBatchJob({ id: 'a', question: 'Q', videos: [3] })).field).toBe('videos');
    expect(failure(() => parseBatchJob({ id: 'a', question: 'Q', temperature: '0.7' })).field).toBe('temperature');
    expect(failure(() => parseBatchJob({ id: 'a', question: 'Q', doSample: 'yes' })).field).toBe('doSample');
    expect(failure(() => parseBatchJob({ id: 'a', messages: [{ content: 'x' }] })).field).toBe('messages');
    expect(failure(() => parseBatchJob(['not', 'an', 'object'])).field).toBe('job');
  });
});

describe('parseBatchJobLines', () => {
  it('reads one job a line, skipping blank lines', () => {
    const jobs = parseBatchJobLines(
      '{"id":"a","question":"Q"}\n\n{"id":"b","prompt":"USER: <video>\\nQ ASSISTANT:","videos":["v.mp4"]}\r\n',
    );
    expect(jobs.map((job) => job.id)).toEqual(['a', 'b']);
  });

  it('names the file and line of a line that is not JSON, and of a repeated id', () => {
    const notJson = failure(() => parseBatchJobLines('{"id":"a","question":"Q"}\n{oops', 'jobs.jsonl'));
    expect([notJson.code, notJson.file, notJson.field]).toEqual(['INVALID_JSON', 'jobs.jsonl', 'line 2']);
    const twice = failure(() =>
      parseBatchJobLines('{"id":"a","question":"Q"}\n{"id":"a","question":"R"}', 'jobs.jsonl'),
    );
    expect(twice.message).toContain('line 1');
    expect(twice.field).toBe('id');
  });
});

describe('requestOfJob', () => {
  it('puts a question in the conversation format, images before videos, as generate --question does', () => {
    expect(requestOfJob({ id: 'a', question: 'Same?', images: ['i.png'], videos: ['v.mp4'], maxNewTokens: 4 })).toEqual(
      {
        messages: [{ role: 'user', content: [{ type: 'image' }, { type: 'video' }, { type: 'text', text: 'Same?' }] }],
        maxNewTokens: 4,
      },
    );
    expect(requestOfJob({ id: 'a', prompt: 'USER: <video>\nQ ASSISTANT:', videos: ['v.mp4'] })).toEqual({
      prompt: 'USER: <video>\nQ ASSISTANT:',
    });
  });

  it('gives jobs about the same media the same key', () => {
    expect(mediaKeyOfJob({ id: 'a', question: 'Q', videos: ['v.mp4'] })).toBe(
      mediaKeyOfJob({ id: 'b', prompt: 'P', videos: ['v.mp4'] }),
    );
    expect(mediaKeyOfJob({ id: 'a', question: 'Q', videos: ['v.mp4'] })).not.toBe(
      mediaKeyOfJob({ id: 'a', question: 'Q', images: ['v.mp4'] }),
    );
  });
});

describe('queueJobId', () => {
  it('turns any id into a distinct BullMQ id (never an integer, never a colon)', () => {
    const ids = ['1', '01', 'a:b', 'a%3Ab', 'clip/1 why?'].map(queueJobId);
    expect(new Set(ids).size).toBe(5);
    for (const id of ids) {
      expect(id).not.toMatch(/:/);
      expect(`${Number.parseInt(id, 10)}`).not.toBe(id);
    }
  });
});

import { resolve } from 'node:path';
import { createVideoLlavaServer } from '@video-llava/server';
import { type CliCommand, UsageError } from '../command.js';
import { defineCommand } from '../define-command.js';
import { modelLoadFlags, modelLoadOptions, parseModelLoadFlags } from '../model-load-arguments.js';
import { sourceFlags, sourceOptionsFromFlags } from '../model-source-arguments.js';

const usage = [
  'video-llava serve <model-dir | org/name[@revision] | https://...> [--host 127.0.0.1] [--port 8080]',
  '                  [--media-root DIR] [--allow-remote-media] [--max-queue N] [--timeout S] [--api-key KEY]',
  '                  [--dtype fp32|fp16|q8|q4|PART=DTYPE,...] [--threads N] [--kv-cache float32|int8]',
  '                  [--prepack-cache on|DIR|off]',
  '                  [--model-id NAME] [--body-limit MB]',
  '                  [--cache-dir <dir>] [--offline]',
].join('\n');

function integer(value: string | undefined, flag: string, minimum: number): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isInteger(parsed) || parsed < minimum)
    throw new UsageError(`--${flag} must be an integer >= ${minimum}, found ${JSON.stringify(value)}`, usage);
  return parsed;
}

function positiveNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0)
    throw new UsageError(`--${flag} must be a number >= 0, found ${JSON.stringify(value)}`, usage);
  return parsed;
}

/**
 * `video-llava serve`: loads a converted model once and answers OpenAI chat completions about videos and images
 * until SIGTERM or SIGINT (then it finishes the running request and exits 0).
 */
export const command: CliCommand = defineCommand({
  name: 'serve',
  summary: 'Serve the model over an OpenAI-compatible HTTP API (chat completions about videos and images)',
  usage,
  options: {
    host: {
      type: 'string',
      value: 'HOST',
      description: 'the address to listen on (default: 127.0.0.1, this machine only)',
    },
    port: { type: 'string', value: 'PORT', description: 'the port (default: 8080; 0 picks a free one)' },
    'media-root': {
      type: 'string',
      value: 'DIR',
      description:
        'the folder that media paths and file: URLs are read from; nothing outside it is opened (default: none, data URLs only)',
    },
    'allow-remote-media': { type: 'boolean', default: false, description: 'fetch http(s) image and video URLs' },
    'max-queue': {
      type: 'string',
      value: 'N',
      description: 'requests that may wait behind the running one; more get 429 (default: 16)',
    },
    timeout: {
      type: 'string',
      value: 'S',
      description: 'seconds a request may take, waiting included, then 504 (default: 600; 0: no limit)',
    },
    'api-key': {
      type: 'string',
      value: 'KEY',
      description: 'require "Authorization: Bearer KEY" on /v1 (default: VIDEO_LLAVA_API_KEY, else none)',
    },
    ...modelLoadFlags,
    'model-id': {
      type: 'string',
      value: 'NAME',
      description: 'the model name in /v1/models (default: the model folder name)',
    },
    'body-limit': {
      type: 'string',
      value: 'MB',
      description: 'the largest request body in MiB, data URLs included; larger get 413 (default: 100)',
    },
    ...sourceFlags,
  },
  positionals: [
    { name: '<model-dir>', description: 'a converted model folder (video-llava convert), a hub id or a URL' },
  ],
  async run({ values, positionals: [model] }, io) {
    const port = integer(values.port, 'port', 0);
    if (port !== undefined && port > 65535) throw new UsageError(`--port must be at most 65535, found ${port}`, usage);
    const maxQueue = integer(values['max-queue'], 'max-queue', 0);
    const timeout = positiveNumber(values.timeout, 'timeout');
    const bodyLimit = positiveNumber(values['body-limit'], 'body-limit');
    const apiKey = values['api-key'] ?? io.env.VIDEO_LLAVA_API_KEY;
    const server = await createVideoLlavaServer({
      model,
      loadOptions: {
        ...modelLoadOptions(model, parseModelLoadFlags(values, usage), io),
        sourceOptions: sourceOptionsFromFlags(values, io),
      },
      ...(values.host === undefined ? {} : { host: values.host }),
      ...(port === undefined ? {} : { port }),
      ...(values['media-root'] === undefined ? {} : { mediaRoot: resolve(io.cwd, values['media-root']) }),
      allowRemoteMedia: values['allow-remote-media'],
      ...(maxQueue === undefined ? {} : { maxQueue }),
      ...(timeout === undefined ? {} : { timeout }),
      ...(apiKey ? { apiKey } : {}),
      ...(values['model-id'] === undefined ? {} : { modelId: values['model-id'] }),
      ...(bodyLimit === undefined ? {} : { bodyLimit: Math.round(bodyLimit * 1024 * 1024) }),
      log: (line) => io.stderr.write(`${JSON.stringify(line)}\n`),
    });
    let url: string;
    try {
      url = await server.listen();
    } catch (error) {
      await server.close();
      throw error;
    }
    const closed = server.closeOnSignals();
    io.stdout.write(`video-llava serve: ${server.modelId} on ${url} (POST ${url}/v1/chat/completions)\n`);
    const signal = await closed;
    io.stderr.write(`video-llava serve: ${signal}: stopped\n`);
    return 0;
  },
});

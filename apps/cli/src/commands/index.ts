import type { CliCommand } from '../command.js';

/**
 * Every sub-command, loaded on first use so `video-llava info` never loads ONNX Runtime or FFmpeg.
 * One file per command in this folder, each exporting `command`.
 */
export const commandLoaders: Record<string, { summary: string; load: () => Promise<CliCommand> }> = {
  info: {
    summary: 'Describe a checkpoint: towers, widths, layers, heads, token counts, dtype, the ONNX files it holds',
    load: async () => (await import('./info.js')).command,
  },
  preprocess: {
    summary: 'Turn an image or a video into the pixel tensor the model sees (.npy)',
    load: async () => (await import('./preprocess.js')).command,
  },
  tokenize: {
    summary: 'Tokenize text with the checkpoint tokenizer: ids, tokens, decoded text',
    load: async () => (await import('./tokenize.js')).command,
  },
  convert: {
    summary: 'Convert a Hugging Face checkpoint to ONNX (fp32, fp16, q8, q4)',
    load: async () => (await import('./convert.js')).command,
  },
  generate: {
    summary: 'Ask a question about videos and images and stream the answer',
    load: async () => (await import('./generate.js')).command,
  },
  chat: {
    summary: 'Talk about videos and images: questions and follow-ups, interactively or one per line',
    load: async () => (await import('./chat.js')).command,
  },
  serve: {
    summary: 'Serve the model over an OpenAI-compatible HTTP API (chat completions about videos and images)',
    load: async () => (await import('./serve.js')).command,
  },
  worker: {
    summary: 'Answer batch jobs from a Redis queue (BullMQ) until SIGTERM',
    load: async () => (await import('./worker.js')).command,
  },
  batch: {
    summary: 'Queue jobs for workers (batch submit) and collect their answers (batch results)',
    load: async () => (await import('./batch.js')).command,
  },
};

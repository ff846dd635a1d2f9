import type { CliCommand } from '../command.js';

// Placeholder until its issue lands: the command exists in the help so the bin's shape is stable.
export const command: CliCommand = {
  name: 'info',
  summary: 'not available yet',
  usage: 'video-llava info',
  async run(_argv, io) {
    io.stderr.write('video-llava info: not available in this build yet\n');
    return 1;
  },
};

export { loadVideo } from './node/load-video.js';
export type { LoadVideoOptions } from './node/load-video.js';
export { checkVideoFile, countDecodedFrames, probeVideo } from './node/probe-video.js';
export type { FfmpegOptions, VideoProbe } from './node/probe-video.js';
export { FFMPEG_PATH_VARIABLE, resolveFfmpegPath } from './node/ffmpeg-path.js';
export type { FrameSelection, LoadedVideo } from './loaded-video.js';

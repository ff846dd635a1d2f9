export { loadVideo } from './browser/load-video.js';
export type { BrowserLoadVideoOptions, BrowserVideoSource } from './browser/load-video.js';
export type { FrameSelection, LoadedVideo } from './loaded-video.js';

export { createPlatform } from './platform.js';
export type { Platform } from './platform.js';
export { buildApp, startServer, packageRoot } from './app.js';
export type { AppOptions, RunningServer } from './app.js';

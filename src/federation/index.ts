export { pull, MAX_REPORTED_FAILURES } from './pull.js';
export type { PeerEndpoint, PullFailure, PullOptions, PullPlatform, PullReport } from './pull.js';
export { cursorKey, loadCursor, saveCursor } from './cursor.js';
export type { CursorScope, PullCursor } from './cursor.js';

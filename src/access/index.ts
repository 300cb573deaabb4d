export { mayRelease } from './policy.js';
export { eventFor } from './event-release.js';
export { AccessService, STREAM_TICKET, STREAM_TICKET_MS, SYSTEM_ACTOR } from './service.js';
export type { Actor, CollectionRights, Principal } from './service.js';
export { hashToken, issueToken } from './tokens.js';
export type { IssuedToken } from './tokens.js';
export { hashPassword, verifyPassword } from './passwords.js';
export { FailureLimiter } from './rate-limit.js';
export { authenticateHeader, WWW_AUTHENTICATE } from './http-auth.js';

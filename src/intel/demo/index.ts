/** The demo alliance: invented member nations, users, groups, collections and intel for a first look at Shieldwall. */
export { createDemoAlliance, demoAllowed, writeDemoCredentials, DEMO_MARKER } from './create.js';
export type { DemoDeps, DemoResult, DemoUserCredential } from './create.js';
export { DEMO_ORGS, DEMO_GROUPS, DEMO_COLLECTIONS } from './alliance.js';
export { demoId, demoIntel } from './intel.js';
export type { DemoSubmission } from './intel.js';

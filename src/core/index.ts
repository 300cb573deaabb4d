export { AppError, ERROR_TABLE, errorShape, isAppError, toAppError } from './errors.js';
export type { ErrorCode, TaxiiErrorBody } from './errors.js';
export { ManualClock, systemClock } from './clock.js';
export type { Clock } from './clock.js';
export { formatMicros, formatStixTime, isStixTimestamp, parseTimestampMicros, versionKey } from './time.js';
export { TLP_LEVELS } from './policy.js';
export type { Audience, Purpose, ReleaseFacts, Tlp } from './policy.js';
export { EventBus } from './bus.js';
export type { BusEvent, BusListener } from './bus.js';

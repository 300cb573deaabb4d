/**
 * Telemetry normalisation: Suricata EVE, Zeek JSON, Windows/Sysmon JSON, ECS JSON, syslog
 * (RFC 5424 / RFC 3164) and CEF lines → one ECS-named event shape. See docs/detection.md.
 */
export type {
  DnsAnswer,
  EventLogsource,
  NormaliseContext,
  NormaliseOptions,
  NormaliseResult,
  NormalisedEvent,
  TelemetryFormat,
} from './types.js';
export { DEFAULT_MAX_DEPTH, DEFAULT_MAX_LINE } from './types.js';
export { DEFAULT_MAX_FIELDS, DEFAULT_MAX_STRING_BYTES, scanJsonBudget } from './budget.js';
export type { EventLimits } from './budget.js';
export { checkLine, normaliseLine, normaliseObject, sniffFormat, sniffRecord } from './normalise.js';
export { quickEve } from './quick.js';
export { flattenWindows } from './windows.js';
export { parseSyslog } from './syslog.js';
export type { SyslogFields } from './syslog.js';
export { parseCef } from './cef.js';
export type { CefRecord } from './cef.js';
export { eventTimeMs } from './normalise.js';
export { canonicalIp } from './util.js';

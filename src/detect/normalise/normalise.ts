/**
 * Entry points: `normaliseLine` (one line of text → one event or an error with its reason),
 * `normaliseObject` (an already parsed JSON record) and `sniffFormat`. Pure (no I/O) and
 * bounded: lines longer than `maxLineLength` are refused before any work that depends on their
 * size, and events over a per-event budget (fields, nesting, string bytes: budget.ts) are
 * refused, JSON ones before they are parsed; nothing throws.
 */
import { limitsOf, scanJsonBudget, valueBudget, withinByLength, type EventLimits } from './budget.js';
import { cefOriginal, cefTimeMs, parseCef, putCef } from './cef.js';
import { normaliseEcs } from './ecs.js';
import { checkEve, normaliseEve } from './eve.js';
import { parseSyslog, putSyslog, syslogLogsource, syslogOriginal } from './syslog.js';
import type { NormaliseContext, NormaliseOptions, NormaliseResult, NormalisedEvent, TelemetryFormat } from './types.js';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_LINE } from './types.js';
import type { Draft, Obj } from './util.js';
import { esTimestamp, head, isObj, logsource, openers, timestamp, timestampMs, tooDeep } from './util.js';
import { flattenWindows, normaliseWindows } from './windows.js';
import { normaliseZeek, zeekPathOf } from './zeek.js';

const JSON_FORMATS: ReadonlySet<TelemetryFormat> = new Set(['suricata-eve', 'ecs', 'windows', 'zeek']);

/** Which JSON format a parsed record is in; undefined when none fits. */
export function sniffRecord(v: unknown): TelemetryFormat | undefined {
  if (!isObj(v)) return undefined;
  if (typeof v['event_type'] === 'string' && 'timestamp' in v) return 'suricata-eve';
  if (isObj(v['Event'])) return 'windows';
  if ('EventID' in v && ('Channel' in v || 'SourceName' in v || 'Provider_Name' in v)) return 'windows';
  if ('id.orig_h' in v || '_path' in v || (isObj(v['id']) && 'orig_h' in v['id']) || ('ts' in v && zeekPathOf(v) !== undefined)) return 'zeek';
  if ('@timestamp' in v) return 'ecs';
  return undefined;
}

/** The format of a line: JSON records by their fields, text by CEF / syslog headers. */
export function sniffFormat(line: string): TelemetryFormat | undefined {
  const t = line.trimStart();
  if (t.startsWith('{')) {
    try {
      return sniffRecord(JSON.parse(t));
    } catch {
      return undefined;
    }
  }
  const cef = t.indexOf('CEF:');
  if (cef === 0 || (cef > 0 && cef < 256 && t.charCodeAt(cef - 1) === 32)) return 'cef';
  const s = parseSyslog(t, 0);
  return s.ok ? 'syslog' : undefined;
}

function fail(error: string): NormaliseResult {
  return { ok: false, error };
}

/** A text-format event (CEF extensions, syslog structured data) is held to the same budget. */
function budgeted(r: NormaliseResult, line: string, limits: EventLimits): NormaliseResult {
  if (!r.ok || withinByLength(line.length, limits)) return r;
  const over = valueBudget(r.event.original, limits);
  return over === null ? r : fail(over);
}

function timestampOf(format: TelemetryFormat, r: Obj): unknown {
  switch (format) {
    case 'suricata-eve': return r['timestamp'];
    case 'zeek': return r['ts'];
    case 'windows': return r['TimeCreated'] ?? r['@timestamp'] ?? r['UtcTime'];
    case 'ecs': return r['@timestamp'];
    case 'syslog': case 'cef': return undefined;
  }
}

/** What `checkLine` gives for a line `normaliseLine` would accept: its format, no event built. */
export interface CheckedLine { readonly ok: true; readonly format: TelemetryFormat; readonly event: null }
type Outcome = NormaliseResult | CheckedLine;

function fromRecord(format: TelemetryFormat, value: unknown, ctx: NormaliseContext, check: boolean): Outcome {
  if (!isObj(value)) return fail('a JSON record must be an object');
  const record = format === 'windows' ? flattenWindows(value) : value;
  const rawTs = timestampOf(format, record);
  if (rawTs === undefined) return fail(`${format} record without a timestamp`);
  // An ECS document's @timestamp is read as Elasticsearch reads the field (its default format).
  const ts = format === 'ecs' ? esTimestamp(rawTs) : timestamp(rawTs);
  if (ts === undefined) return fail(`${format} record has a malformed timestamp: ${JSON.stringify(rawTs).slice(0, 64)}`);
  if (check && format === 'suricata-eve') {
    // EVE is most of what sensors send: its refusals are checked without building the event.
    const refused = checkEve(record);
    return refused === null ? { ok: true, format, event: null } : fail(refused);
  }
  const d: Draft = head(ctx, ts, format, format);
  let error: string | null;
  switch (format) {
    case 'suricata-eve': error = normaliseEve(d, record); break;
    case 'zeek': error = normaliseZeek(d, record); break;
    case 'windows': error = normaliseWindows(d, record); break;
    case 'ecs': error = normaliseEcs(d, record); break;
    case 'syslog': case 'cef': return fail(`${format} is a text format, not JSON`);
  }
  if (error !== null) return fail(error);
  d['original'] = record;
  // The tenant comes from the context (set by head()), never from the data: the ECS normaliser
  // skips organization.id / observer.id of the document.
  return { ok: true, format, event: d as NormalisedEvent };
}

function fromText(format: 'syslog' | 'cef', line: string, ctx: NormaliseContext): NormaliseResult {
  const receivedAt = ctx.receivedAt ?? Date.now();
  const cefAt = line.indexOf('CEF:');
  if (format === 'cef') {
    if (cefAt < 0) return fail('no "CEF:" in the line');
    const c = parseCef(line.slice(cefAt));
    if (!c.ok) return fail(c.error);
    let ms = NaN;
    const rt = c.value.extensions['rt'] ?? c.value.extensions['end'] ?? c.value.extensions['start'];
    if (rt !== undefined) {
      ms = cefTimeMs(rt);
      if (Number.isNaN(ms)) return fail(`CEF rt "${rt.slice(0, 40)}" is malformed`);
    }
    // A syslog header before CEF: gives host and time when the extension has none.
    const header = cefAt > 0 ? parseSyslog(line.slice(0, cefAt), receivedAt) : undefined;
    if (Number.isNaN(ms)) ms = header?.ok === true && header.value.timestampMs !== undefined ? header.value.timestampMs : receivedAt;
    const ts = timestamp(ms);
    if (ts === undefined) return fail('CEF event time out of range');
    const d = head(ctx, ts, 'cef', 'cef.log');
    if (header?.ok === true && header.value.hostname !== undefined) d['host.name'] = header.value.hostname;
    putCef(d, c.value);
    d['original'] = cefOriginal(c.value, line);
    return { ok: true, format, event: d as NormalisedEvent };
  }
  const s = parseSyslog(line, receivedAt);
  if (!s.ok) return fail(s.error);
  const ts = timestamp(s.value.timestampMs ?? receivedAt);
  if (ts === undefined) return fail('syslog time out of range');
  const d = head(ctx, ts, 'syslog', s.value.rfc === 5424 ? 'syslog.rfc5424' : 'syslog.rfc3164');
  putSyslog(d, s.value);
  d['event.category'] = ['host'];
  d['logsource'] = syslogLogsource(s.value);
  d['original'] = syslogOriginal(s.value, line);
  return { ok: true, format, event: d as NormalisedEvent };
}

/**
 * Normalises one line. `format: 'auto'` sniffs it. Never throws: a malformed line gives
 * `{ ok: false, error }` with the reason.
 *
 * @example
 * normaliseLine('suricata-eve', line, { orgId: 'org-1', sensorId: 'sensor-7' });
 */
export function normaliseLine(
  format: TelemetryFormat | 'auto',
  line: string,
  ctx: NormaliseContext,
  options: NormaliseOptions = {},
): NormaliseResult {
  return lineOutcome(format, line, ctx, options) as NormaliseResult;
}

/**
 * Accepts or refuses a line exactly as `normaliseLine` would (same reasons), without building
 * the normalised event where that can be skipped (EVE): what ingestion needs before it spools
 * the line as sent, the detection worker normalising it later.
 */
export function checkLine(
  format: TelemetryFormat | 'auto',
  line: string,
  ctx: NormaliseContext,
  options: NormaliseOptions = {},
): { ok: true; format: TelemetryFormat } | { ok: false; error: string } {
  const r = lineOutcome(format, line, ctx, { ...options, check: true });
  return r.ok ? { ok: true, format: r.format } : r;
}

function lineOutcome(format: TelemetryFormat | 'auto', line: string, ctx: NormaliseContext, options: NormaliseOptions & { check?: boolean }): Outcome {
  const check = options.check === true;
  try {
    if (typeof line !== 'string') return fail('the line is not a string');
    const max = options.maxLineLength ?? DEFAULT_MAX_LINE;
    if (line.length > max) return fail(`line of ${line.length} characters exceeds the limit of ${max}`);
    const first = line.charCodeAt(0);
    const isJson = first === 123 || (first <= 32 && line.trimStart().startsWith('{'));
    const limits = limitsOf(options);
    if (format === 'auto' || JSON_FORMATS.has(format)) {
      if (isJson) {
        // A long line is held to the budget before it is parsed (no huge object is built);
        // a short one cannot exceed the field and string caps, only the depth one.
        const long = !withinByLength(line.length, limits);
        if (long) {
          const over = scanJsonBudget(line, limits);
          if (over !== null) return fail(over);
        }
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch (e) {
          return fail(`invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
        }
        const maxDepth = limits.maxDepth;
        if (!long && openers(line, maxDepth) > maxDepth && tooDeep(value, maxDepth)) return fail(`JSON nested deeper than ${maxDepth} levels`);
        return normaliseParsed(format, value, ctx, check);
      }
      if (format !== 'auto') return line.trim() === '' ? fail('empty line') : fail(`${format} lines are JSON objects`);
      if (line.trim() === '') return fail('empty line');
      const sniffed = sniffFormat(line);
      if (sniffed === undefined) {
        // A line that opens with a syslog <PRI> is syslog: its parser's reason says what is wrong.
        const t = line.trimStart();
        if (t.charCodeAt(0) === 60 && /^<\d{1,3}>/.test(t)) {
          const s = parseSyslog(t, ctx.receivedAt ?? 0);
          if (!s.ok) return fail(s.error);
        }
        return fail('unrecognised line: not JSON, CEF or syslog');
      }
      return budgeted(fromText(sniffed === 'cef' ? 'cef' : 'syslog', line.trim(), ctx), line, limits);
    }
    if (line.trim() === '') return fail('empty line');
    return budgeted(fromText(format === 'cef' ? 'cef' : 'syslog', line.trim(), ctx), line, limits);
  } catch (e) {
    // Defensive: a bug in a normaliser must not take down the ingest loop.
    return fail(`internal error while normalising: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Normalises an already parsed JSON record (same checks as `normaliseLine` after JSON.parse). */
export function normaliseObject(
  format: TelemetryFormat | 'auto',
  value: unknown,
  ctx: NormaliseContext,
  options: NormaliseOptions = {},
): NormaliseResult {
  try {
    const over = valueBudget(value, limitsOf(options));
    if (over !== null) return fail(over);
    return normaliseParsed(format, value, ctx, false) as NormaliseResult;
  } catch (e) {
    return fail(`internal error while normalising: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function normaliseParsed(format: TelemetryFormat | 'auto', value: unknown, ctx: NormaliseContext, check: boolean): Outcome {
  const f = format === 'auto' ? sniffRecord(value) : format;
  if (f === undefined) return fail('unrecognised JSON record: not EVE, Zeek, Windows or ECS');
  return fromRecord(f, value, ctx, check);
}

/** An event's `@timestamp` in ms since the epoch (NaN when it is not a timestamp). */
export function eventTimeMs(e: NormalisedEvent): number {
  const t = e['@timestamp'];
  return typeof t === 'string' ? timestampMs(t) : NaN;
}

/**
 * Syslog lines: RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`) and RFC 3164 /
 * BSD (`<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`), plus the common 3164 variant of network
 * gear (Cisco IOS: `HOST SEQ: Mmm dd hh:mm:ss.mmm: %FAC-SEV-MNEMONIC: text`, PRI stripped by
 * the collector). Small hand parsers: every field is checked, nothing is thrown, and each
 * malformed line gets a reason. ECS: `log.syslog.*`, `host.name`, `process.name/pid`, `message`.
 */
import type { EventLogsource } from './types.js';
import type { Draft, Obj } from './util.js';
import { baseName, int, logsource, timestamp } from './util.js';

export interface SyslogFields {
  readonly rfc: 5424 | 3164;
  readonly priority?: number;
  readonly timestampMs?: number;
  readonly hostname?: string;
  readonly appName?: string;
  readonly procId?: string;
  readonly msgId?: string;
  readonly structuredData?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly message: string;
}

type Parsed = { ok: true; value: SyslogFields } | { ok: false; error: string };

function pri(line: string): { pri: number; rest: string } | null | 'bad' {
  if (line.charCodeAt(0) !== 60) return null; // '<'
  const close = line.indexOf('>');
  if (close < 2 || close > 4) return 'bad';
  const digits = line.slice(1, close);
  if (!/^(0|[1-9]\d{0,2})$/.test(digits) || Number(digits) > 191) return 'bad';
  return { pri: Number(digits), rest: line.slice(close + 1) };
}

const nil = (s: string | undefined): string | undefined => (s === undefined || s === '-' ? undefined : s);

/** Structured data: `-` or `[id k="v" …]…`; values unescape `\"`, `\\`, `\]` (RFC 5424 §6.3.3). */
function structuredData(s: string, start: number): { sd: Record<string, Record<string, string>>; end: number } | string {
  const sd: Record<string, Record<string, string>> = {};
  let i = start;
  if (s[i] === '-') return { sd, end: i + 1 };
  if (s[i] !== '[') return 'structured data must be "-" or start with "["';
  while (s[i] === '[') {
    i++;
    const idEnd = s.slice(i).search(/[ \]]/);
    if (idEnd <= 0) return 'empty or unterminated SD-ID';
    const id = s.slice(i, i + idEnd);
    i += idEnd;
    const params: Record<string, string> = Object.create(null) as Record<string, string>;
    while (s[i] === ' ') {
      i++;
      const eq = s.indexOf('=', i);
      if (eq <= i || s[eq + 1] !== '"') return `malformed SD-PARAM in [${id}]`;
      const name = s.slice(i, eq);
      if (!/^[^\s="\]]{1,32}$/.test(name)) return `malformed SD-PARAM name in [${id}]`;
      i = eq + 2;
      let value = '';
      for (;;) {
        const c = s[i];
        if (c === undefined) return `unterminated SD-PARAM value in [${id}]`;
        if (c === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\' || s[i + 1] === ']')) { value += s[i + 1]; i += 2; continue; }
        if (c === '"') { i++; break; }
        value += c;
        i++;
      }
      params[name] = value;
    }
    if (s[i] !== ']') return `unterminated SD-ELEMENT [${id}]`;
    i++;
    sd[id] = params;
  }
  return { sd, end: i };
}

const PRINTUSASCII = /^[\x21-\x7e]+$/;

function parse5424(rest: string, priority: number): Parsed {
  // VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [SP MSG]
  const parts: string[] = [];
  let i = 0;
  for (let k = 0; k < 6; k++) {
    const sp = rest.indexOf(' ', i);
    if (sp < 0) return { ok: false, error: 'RFC 5424 header is truncated' };
    parts.push(rest.slice(i, sp));
    i = sp + 1;
  }
  const [, ts, host, app, proc, msgid] = parts;
  // Each header field is a NILVALUE `-` or 1..n printable US-ASCII characters (§6.2): an empty
  // one (two spaces in a row) is refused, not read as ''.
  const fields: readonly [string, string | undefined, number][] = [['TIMESTAMP', ts, 64], ['HOSTNAME', host, 255], ['APP-NAME', app, 48], ['PROCID', proc, 128], ['MSGID', msgid, 32]];
  for (const [name, v, max] of fields) {
    if (v === undefined || v === '') return { ok: false, error: `RFC 5424 ${name} is empty (a missing value is written "-")` };
    if (v.length > max || !PRINTUSASCII.test(v)) return { ok: false, error: `RFC 5424 ${name} must be 1 to ${max} printable US-ASCII characters` };
  }
  let timestampMs: number | undefined;
  if (ts !== '-') {
    const iso = timestamp(ts);
    if (iso === undefined || !/(Z|[+-]\d{2}:\d{2})$/.test(ts ?? '')) return { ok: false, error: `RFC 5424 timestamp "${ts ?? ''}" is malformed` };
    timestampMs = Date.parse(iso);
  }
  const sd = structuredData(rest, i);
  if (typeof sd === 'string') return { ok: false, error: sd };
  let msg = rest.slice(sd.end);
  if (msg !== '' && msg[0] !== ' ') return { ok: false, error: 'RFC 5424 structured data must be followed by a space' };
  msg = msg.slice(1);
  if (msg.charCodeAt(0) === 0xfeff) msg = msg.slice(1);
  return { ok: true, value: { rfc: 5424, priority, timestampMs, hostname: nil(host), appName: nil(app), procId: nil(proc), msgId: nil(msgid), structuredData: sd.sd, message: msg } };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
// A zone name is read only before the colon of the Cisco form (`18:46:11.123 EST: %SYS-…`): in
// the standard form the word after the time is the host name, and `MAIL` or `DNS` is a host.
const BSD_TIME = /(?:^|\s)\*?(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([ \d]\d)(?: (\d{4}))? (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:(?: ([A-Z]{1,5}))?(:))? /;

/**
 * Offsets (minutes east of UTC) of the zone names network gear prints with `show-timezone`: UTC,
 * North America and Europe, where the names are not ambiguous in that use (`CST` is North
 * American Central here, as Cisco IOS and Junos print it). Another name is refused with a
 * reason rather than read as UTC.
 */
const ZONES: Readonly<Record<string, number>> = {
  UTC: 0, GMT: 0, Z: 0, UT: 0,
  EST: -300, EDT: -240, CST: -360, CDT: -300, MST: -420, MDT: -360, PST: -480, PDT: -420,
  AKST: -540, AKDT: -480, HST: -600,
  WET: 0, WEST: 60, BST: 60, CET: 60, CEST: 120, MET: 60, MEST: 120, EET: 120, EEST: 180, MSK: 180,
  JST: 540, KST: 540, SGT: 480, HKT: 480, AWST: 480, ACST: 570, AEST: 600, AEDT: 660, NZST: 720, NZDT: 780,
};

function parse3164(rest: string, priority: number | undefined, receivedAt: number): Parsed {
  // The timestamp is looked for near the start: standard lines begin with it, Cisco-style lines
  // put "HOST SEQ:" first. Anything before it is the relay's host name.
  const m = BSD_TIME.exec(rest.slice(0, 96));
  if (m === null) return { ok: false, error: 'no RFC 3164 timestamp ("Mmm dd hh:mm:ss") near the start of the line' };
  const month = MONTHS.indexOf(m[1] ?? '');
  const day = Number((m[2] ?? '').trim());
  const h = Number(m[4]);
  const mi = Number(m[5]);
  const se = Number(m[6]);
  if (day < 1 || day > 31 || h > 23 || mi > 59 || se > 60) return { ok: false, error: 'RFC 3164 timestamp out of range' };
  const zone = m[8];
  const offset = zone === undefined ? 0 : ZONES[zone];
  if (offset === undefined) return { ok: false, error: `RFC 3164 time zone "${zone ?? ''}" is not one this parser knows (UTC, GMT, North American, European or Asia-Pacific names)` };
  // No year in RFC 3164: take the reception year, or the previous one for a December line read in January.
  const now = new Date(receivedAt);
  let year = m[3] !== undefined ? Number(m[3]) : now.getUTCFullYear();
  if (m[3] === undefined && month > now.getUTCMonth() + 1) year -= 1;
  const timestampMs = Date.UTC(year, month, day, h, mi, se) + (m[7] !== undefined ? Number(m[7].padEnd(3, '0').slice(0, 3)) : 0) - offset * 60_000;
  // Before the time: the relay's host and/or the sender's `HOST:` and `SEQ:` (Cisco
  // `service sequence-numbers`, `logging origin-id`); a sequence number is not a host.
  const before = rest.slice(0, m.index).trim().split(/\s+/).map((x) => (x.endsWith(':') ? x.slice(0, -1) : x)).filter((x) => x !== '' && !/^\d+$/.test(x));
  let after = rest.slice(m.index + m[0].length);
  let hostname = before[0];
  let appName: string | undefined;
  let procId: string | undefined;
  // Cisco form (a colon after the time) without a relay prefix: the message follows at once.
  if (before.length === 0 && m[9] === undefined) {
    // Standard: HOSTNAME TAG[PID]: MSG
    const tok = /^(\S+) (?:([^\s:[\]]{1,48})(?:\[(\w{1,16})\])?: )?/.exec(after);
    if (tok !== null) {
      hostname = tok[1];
      appName = tok[2];
      procId = tok[3];
      after = after.slice(tok[0].length);
    }
  }
  return { ok: true, value: { rfc: 3164, priority, timestampMs, hostname, appName, procId, message: after } };
}

/** Parses a syslog line (5424 when `<PRI>` is followed by a version digit, else 3164). */
export function parseSyslog(line: string, receivedAt: number): Parsed {
  const p = pri(line);
  if (p === 'bad') return { ok: false, error: 'malformed <PRI> (must be <0>..<191>)' };
  if (p !== null && /^[1-9]\d? /.test(p.rest)) return parse5424(p.rest, p.pri);
  return parse3164(p === null ? line : p.rest, p?.pri, receivedAt);
}

/** Puts the syslog header fields on the event (`log.syslog.*`, host, process). */
export function putSyslog(d: Draft, s: SyslogFields): void {
  if (s.priority !== undefined) {
    d['log.syslog.priority'] = s.priority;
    d['log.syslog.facility.code'] = s.priority >> 3;
    d['log.syslog.severity.code'] = s.priority & 7;
  }
  if (s.hostname !== undefined) d['host.name'] = s.hostname;
  if (s.appName !== undefined) { d['log.syslog.appname'] = s.appName; d['process.name'] = s.appName; }
  if (s.procId !== undefined) { d['log.syslog.procid'] = s.procId; const pid = int(s.procId); if (pid !== undefined) d['process.pid'] = pid; }
  if (s.msgId !== undefined) d['log.syslog.msgid'] = s.msgId;
  if (s.structuredData !== undefined && Object.keys(s.structuredData).length > 0) d['log.syslog.structured_data'] = s.structuredData;
  d['log.syslog.version'] = s.rfc === 5424 ? '1' : undefined;
  if (d['log.syslog.version'] === undefined) delete d['log.syslog.version'];
  d['message'] = s.message;
}

/** The `original` record of a syslog line: header fields plus the raw text (for keyword rules). */
export function syslogOriginal(s: SyslogFields, line: string): Obj {
  return { ...s, raw: line };
}

/**
 * Sigma taxonomy services (spec appendix "Taxonomy", product `linux`) of programs whose service
 * name is not the program's own: SigmaHQ's `linux/builtin` rules name `cron`, `clamav`,
 * `guacamole` where syslog tags say `CRON`, `crond`, `clamd`, `freshclam`, `guacd`.
 */
const SERVICE_OF: Readonly<Record<string, string>> = { crond: 'cron', anacron: 'cron', clamd: 'clamav', freshclam: 'clamav', guacd: 'guacamole' };

/** Facilities of authentication messages (RFC 5424 table 1): auth (4) and authpriv (10). */
const AUTH_FACILITIES: ReadonlySet<number> = new Set([4, 10]);

const ROUTES = new Map<string, EventLogsource>();

/**
 * The Sigma routing of a syslog line. A line with a program tag (`sshd[12]:`, the Unix syslog(3)
 * convention) is `product: linux` with the services `syslog`, the program's name (`sshd`,
 * `sudo`, `vsftpd`), its taxonomy name (`cron` for `CRON`) and `auth` for the auth and authpriv
 * facilities, so SigmaHQ's `product: linux` / `service: sshd` rules see it. A line without one
 * (network gear) stays `product: syslog`, `service: syslog`. One shared object per kind of line.
 */
export function syslogLogsource(s: SyslogFields): EventLogsource {
  if (s.appName === undefined) return logsource('syslog', undefined, 'syslog');
  const program = baseName(s.appName).toLowerCase();
  const auth = s.priority !== undefined && AUTH_FACILITIES.has(s.priority >> 3);
  const key = auth ? `${program}\u0000auth` : program;
  const known = ROUTES.get(key);
  if (known !== undefined) return known;
  const services = ['syslog'];
  for (const x of [program, Object.hasOwn(SERVICE_OF, program) ? SERVICE_OF[program] : undefined, auth ? 'auth' : undefined]) if (x !== undefined && x !== '' && !services.includes(x)) services.push(x);
  const ls: EventLogsource = Object.freeze({ product: 'linux', service: Object.freeze(services) });
  // Bounded: program names come from the lines.
  if (ROUTES.size < 10_000) ROUTES.set(key, ls);
  return ls;
}

/**
 * Direct reads of the values an index table needs, straight from the normalised event, for the
 * common object paths: the same values `observationOf` would put at that path (see observe.ts),
 * without building the observation. The property test checks the two agree. Paths without a
 * probe fall back to the observation.
 */
import type { NormalisedEvent } from '../normalise/index.js';
import { HASH_FIELDS } from './observe.js';

export type Probe = (e: NormalisedEvent, out: unknown[]) => void;

function strings(e: NormalisedEvent, out: unknown[], fields: readonly string[]): void {
  for (const f of fields) {
    const v = e[f];
    if (typeof v === 'string' && v !== '') out.push(v);
  }
}

function addAddress(out: unknown[], v: unknown, v6: boolean): void {
  if (typeof v === 'string') {
    if (v !== '' && v.includes(':') === v6 && !out.includes(v)) out.push(v);
  } else if (Array.isArray(v)) {
    // A list of addresses (an ECS document's `source.ip: [a, b]`; `dns.resolved_ip`).
    for (const x of v) if (typeof x === 'string' && x !== '' && x.includes(':') === v6 && !out.includes(x)) out.push(x);
  }
}

function addresses(e: NormalisedEvent, out: unknown[], v6: boolean): void {
  addAddress(out, e['source.ip'], v6);
  addAddress(out, e['destination.ip'], v6);
  addAddress(out, e['dns.resolved_ip'], v6);
}

const nonEmpty = (v: unknown): boolean => typeof v === 'string' && v !== '';

function hasTraffic(e: NormalisedEvent): boolean {
  return nonEmpty(e['source.ip']) || nonEmpty(e['destination.ip']);
}

/** observe.ts builds a process SCO only from an executable, a command line or a pid. */
function hasProcess(e: NormalisedEvent): boolean {
  return nonEmpty(e['process.executable']) || nonEmpty(e['process.command_line']) || typeof e['process.pid'] === 'number';
}

/** The values of one `file:hashes.<algo>` (or imphash) path: the file's and the process image's. */
function fileHash(field: string): Probe {
  const file = `file.${field}`;
  const proc = `process.${field}`;
  return (e, out) => {
    const a = e[file];
    if (typeof a === 'string' && a !== '') out.push(a);
    const b = e[proc];
    if (typeof b === 'string' && b !== '' && b !== a && hasProcess(e)) out.push(b);
  };
}

// Keys are `objectType:step` as written by compile.ts stepsKey (steps joined by \u0000).
export const PROBES: ReadonlyMap<string, Probe> = new Map<string, Probe>([
  ['ipv4-addr:value', (e, out) => addresses(e, out, false)],
  ['ipv6-addr:value', (e, out) => addresses(e, out, true)],
  ['domain-name:value', (e, out) => {
    // Direct reads (this probe runs on nearly every event).
    const a = e['dns.question.name'];
    const b = e['url.domain'];
    const c = e['destination.domain'];
    const d = e['tls.client.server_name'];
    if (typeof a === 'string' && a !== '') out.push(a);
    if (typeof b === 'string' && b !== '' && b !== a) out.push(b);
    if (typeof c === 'string' && c !== '' && c !== a && c !== b) out.push(c);
    if (typeof d === 'string' && d !== '' && d !== a && d !== b && d !== c) out.push(d);
  }],
  ['url:value', (e, out) => { const v = e['url.full']; if (typeof v === 'string' && v !== '') out.push(v); }],
  // Every hash the normalisers write (observe.ts HASH_FIELDS), and the PE import hash.
  ...HASH_FIELDS.map(([ecs, stix]) => [`file:hashes\u0000${stix}`, fileHash(`hash.${ecs}`)] as const),
  ['file:extensions\u0000windows-pebinary-ext\u0000imphash', fileHash('pe.imphash')],
  ['user-account:account_login', (e, out) => strings(e, out, ['user.name'])],
  // network-traffic exists when either address does (observe.ts network()).
  ['network-traffic:dst_port', (e, out) => { if (hasTraffic(e) && typeof e['destination.port'] === 'number') out.push(e['destination.port']); }],
  ['network-traffic:src_port', (e, out) => { if (hasTraffic(e) && typeof e['source.port'] === 'number') out.push(e['source.port']); }],
  ['network-traffic:dst_ref\u0000value', (e, out) => strings(e, out, ['destination.ip'])],
  ['network-traffic:src_ref\u0000value', (e, out) => strings(e, out, ['source.ip'])],
  ['process:command_line', (e, out) => { if (hasProcess(e)) strings(e, out, ['process.command_line']); }],
  ['file:name', (e, out) => {
    strings(e, out, ['file.name']);
    if (!hasProcess(e)) return;
    const name = e['process.name'];
    if (typeof name === 'string' && name !== '' && !out.includes(name)) out.push(name);
    const parent = e['process.parent.name'];
    if (typeof parent === 'string' && parent !== '' && !out.includes(parent) && (nonEmpty(e['process.parent.executable']) || nonEmpty(e['process.parent.command_line']))) out.push(parent);
  }],
  ['windows-registry-key:key', (e, out) => strings(e, out, ['registry.path'])],
]);

const isAddress = (v: unknown, v6: boolean): boolean => typeof v === 'string' && v !== '' && v.includes(':') === v6;

/** An address, or a list holding one, of the family. */
function holdsAddress(v: unknown, v6: boolean): boolean {
  if (isAddress(v, v6)) return true;
  if (!Array.isArray(v)) return false;
  for (const x of v) if (isAddress(x, v6)) return true;
  return false;
}

function hasAddress(e: NormalisedEvent, v6: boolean): boolean {
  return holdsAddress(e['source.ip'], v6) || holdsAddress(e['destination.ip'], v6) || holdsAddress(e['dns.resolved_ip'], v6);
}

const anyOf = (e: NormalisedEvent, fields: readonly string[]): boolean => fields.some((f) => nonEmpty(e[f]));

// The fields from which observe.ts builds a file SCO (for the event's file and a process image) and a certificate.
const hashFields = (prefix: string): string[] => HASH_FIELDS.map(([ecs]) => `${prefix}.hash.${ecs}`);
const FILE_FIELDS = ['file.name', ...hashFields('file'), 'file.pe.imphash'];
const PROCESS_IMAGE_FIELDS = ['process.name', ...hashFields('process'), 'process.pe.imphash'];
const CERT_FIELDS = hashFields('tls.server');

/** Whether the observation of `e` (observe.ts) will hold an SCO of `type`, without building it. */
export function hasType(e: NormalisedEvent, type: string): boolean {
  switch (type) {
    case 'ipv4-addr': return hasAddress(e, false);
    case 'ipv6-addr': return hasAddress(e, true);
    case 'network-traffic': return hasTraffic(e);
    case 'domain-name': return anyOf(e, ['dns.question.name', 'url.domain', 'destination.domain', 'tls.client.server_name']);
    case 'url': return nonEmpty(e['url.full']);
    case 'file':
      if (anyOf(e, FILE_FIELDS)) return true;
      if (!hasProcess(e)) return false;
      return anyOf(e, PROCESS_IMAGE_FIELDS)
        || (anyOf(e, ['process.parent.executable', 'process.parent.command_line']) && nonEmpty(e['process.parent.name']));
    case 'process': return hasProcess(e);
    case 'user-account': return nonEmpty(e['user.name']);
    case 'windows-registry-key': return nonEmpty(e['registry.path']);
    case 'x509-certificate': return anyOf(e, CERT_FIELDS);
    default: return false;
  }
}

/** The observation types of `e` among `candidates`. */
export function typesOf(e: NormalisedEvent, candidates: Iterable<string>): Set<string> {
  const t = new Set<string>();
  for (const c of candidates) if (!t.has(c) && hasType(e, c)) t.add(c);
  return t;
}

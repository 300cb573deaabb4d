/**
 * STIX identifiers (STIX 2.1 §2.9): `type--UUID`. SDOs/SROs/meta objects use random v4
 * UUIDs; SCOs SHOULD use deterministic v5 UUIDs computed over their id-contributing
 * properties (§6, "Deterministic Identifiers") so independent producers agree on the id.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { StixId } from './types.js';

/** The STIX 2.1 namespace for UUIDv5 SCO identifiers (§2.9). */
export const STIX_SCO_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const ID_RE = /^[a-z][a-z0-9-]*[a-z0-9]--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** RFC 4122 textual layout (8-4-4-4-12 hex digits). */
export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

// References repeat across the objects of an import (created_by_ref, object_marking_refs): the
// answers for the last few ids seen are kept (frozen, so a caller cannot change a shared one).
const PARSED_IDS = new Map<string, Readonly<{ type: string; uuid: string }>>();
const PARSED_IDS_MAX = 256;

/** Splits an identifier into its type and UUID; null when it is not `type--uuid`. */
export function parseStixId(s: unknown): Readonly<{ type: string; uuid: string }> | null {
  if (typeof s !== 'string' || s.length > 300) return null;
  const known = PARSED_IDS.get(s);
  if (known) return known;
  // `type--uuid`: the UUID is the last 36 characters, so the type is what comes before `--` there.
  if (!ID_RE.test(s)) return null;
  const id = Object.freeze({ type: s.slice(0, s.length - 38), uuid: s.slice(s.length - 36) });
  if (PARSED_IDS.size >= PARSED_IDS_MAX) PARSED_IDS.clear();
  PARSED_IDS.set(s, id);
  return id;
}

/** The UUID version nibble of an identifier, or null. */
export function uuidVersion(uuid: string): number | null {
  if (!isUuid(uuid)) return null;
  return uuidVersionOfValid(uuid);
}

/** The version nibble of a UUID already known to have the 8-4-4-4-12 layout (parseStixId's). */
export function uuidVersionOfValid(uuid: string): number {
  return Number.parseInt(uuid.charAt(14), 16);
}

/** A new random identifier for an object of `type`. */
export function newStixId<T extends string>(type: T): StixId<T> {
  return `${type}--${randomUUID()}` as StixId<T>;
}

/** RFC 4122 §4.3 name-based UUID with SHA-1 (version 5). */
export function uuidv5(namespace: string, name: string): string {
  if (!isUuid(namespace)) throw new RangeError(`not a UUID: ${namespace}`);
  const ns = Buffer.from(namespace.replaceAll('-', ''), 'hex');
  const hash = createHash('sha1').update(ns).update(Buffer.from(name, 'utf8')).digest();
  const b = hash.subarray(0, 16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x50;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * RFC 8785 (JSON Canonicalization Scheme) serialisation, which §2.9 prescribes for the
 * UUIDv5 name. Keys sort by UTF-16 code units; numbers use ECMAScript formatting, as JCS does.
 */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError('non-finite number');
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  throw new TypeError(`cannot canonicalise ${typeof v}`);
}

/** ID contributing properties per SCO type (STIX 2.1 §6.x "ID Contributing Properties"). */
export const SCO_ID_CONTRIBUTING: Readonly<Record<string, readonly string[]>> = {
  artifact: ['hashes', 'payload_bin'],
  'autonomous-system': ['number'],
  directory: ['path'],
  'domain-name': ['value'],
  'email-addr': ['value'],
  'email-message': ['from_ref', 'subject', 'body'],
  file: ['hashes', 'name', 'extensions', 'parent_directory_ref'],
  'ipv4-addr': ['value'],
  'ipv6-addr': ['value'],
  'mac-addr': ['value'],
  mutex: ['name'],
  'network-traffic': ['start', 'end', 'src_ref', 'dst_ref', 'src_port', 'dst_port', 'protocols', 'extensions'],
  process: [],
  software: ['name', 'cpe', 'swid', 'vendor', 'version'],
  url: ['value'],
  'user-account': ['account_type', 'user_id', 'account_login'],
  'windows-registry-key': ['key', 'values'],
  'x509-certificate': ['hashes', 'serial_number'],
};

/** §2.9: when `hashes` contributes, only one hash is used, picked in this order. */
const HASH_PREFERENCE = ['MD5', 'SHA-1', 'SHA-256', 'SHA-512'];

function pickOneHash(hashes: unknown): Record<string, unknown> | undefined {
  if (!hashes || typeof hashes !== 'object' || Array.isArray(hashes)) return undefined;
  const h = hashes as Record<string, unknown>;
  const key = HASH_PREFERENCE.find((k) => k in h) ?? Object.keys(h).sort()[0];
  return key === undefined ? undefined : { [key]: h[key] };
}

/**
 * The deterministic identifier of an SCO: UUIDv5 in the STIX namespace over the canonical
 * JSON of its id-contributing properties. Falls back to a random v4 id when the type has
 * none, or none is present (as §2.9 requires), so the result is always a valid id.
 */
export function deterministicScoId(type: string, props: Readonly<Record<string, unknown>>): StixId {
  const names = SCO_ID_CONTRIBUTING[type] ?? [];
  const contributing: Record<string, unknown> = {};
  for (const n of names) {
    const v = n === 'hashes' ? pickOneHash(props[n]) : props[n];
    if (v !== undefined) contributing[n] = v;
  }
  if (Object.keys(contributing).length === 0) return newStixId(type);
  return `${type}--${uuidv5(STIX_SCO_NAMESPACE, canonicalJson(contributing))}` as StixId;
}

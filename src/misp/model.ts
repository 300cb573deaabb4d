/**
 * The MISP core format (MISP/misp-rfc misp-core-format), parsed at the edge into typed,
 * normalised values: numbers that MISP sends as strings become numbers, `to_ids` "1"/"0"
 * becomes a boolean, a missing `to_ids` takes the type's sane default (PyMISP describeTypes).
 * Anything that is not a MISP event is a clear 400, never a half-read event.
 */
import { AppError } from '../core/errors.js';

export interface MispTag { name: string }
export interface MispOrg { uuid: string | null; name: string }

export interface MispSighting {
  uuid: string;
  /** 0 seen, 1 false positive, 2 expiration (MISP Model/Sighting.php). */
  type: number;
  dateSighting: number;
  source: string;
  org: MispOrg | null;
}

export interface MispGalaxyCluster {
  uuid: string | null;
  /** The galaxy type, e.g. `banker`, `mitre-attack-pattern`. */
  type: string;
  value: string;
  description: string;
  synonyms: string[];
  galaxyName: string;
}

export interface MispAttribute {
  uuid: string;
  type: string;
  category: string;
  value: string;
  toIds: boolean;
  distribution: number;
  sharingGroupId: string;
  /** The attribute's own sharing group, when the document carries it inline (MISP does on export). */
  sharingGroup: MispSharingGroup | null;
  timestamp: number;
  comment: string;
  deleted: boolean;
  firstSeen: string | null;
  lastSeen: string | null;
  objectRelation: string | null;
  tags: string[];
  sightings: MispSighting[];
  galaxies: MispGalaxyCluster[];
}

export interface MispReference {
  uuid: string | null;
  referencedUuid: string;
  relationshipType: string;
  timestamp: number | null;
  deleted: boolean;
}

export interface MispObject {
  uuid: string;
  name: string;
  metaCategory: string;
  description: string;
  comment: string;
  timestamp: number;
  distribution: number;
  sharingGroupId: string;
  sharingGroup: MispSharingGroup | null;
  deleted: boolean;
  attributes: MispAttribute[];
  references: MispReference[];
}

export interface MispSharingGroup {
  /** The instance-local id (`sharing_group_id` of the elements that use it). */
  id: string | null;
  uuid: string | null;
  name: string;
  orgs: MispOrg[];
}

export interface MispEvent {
  uuid: string;
  info: string;
  date: string;
  timestamp: number;
  published: boolean;
  publishTimestamp: number;
  threatLevelId: number;
  analysis: number;
  distribution: number;
  sharingGroupId: string;
  sharingGroup: MispSharingGroup | null;
  orgc: MispOrg | null;
  tags: string[];
  attributes: MispAttribute[];
  objects: MispObject[];
  galaxies: MispGalaxyCluster[];
}

/** Types whose `to_ids` sane default is true (PyMISP data/describeTypes.json `sane_defaults`). */
const IDS_BY_DEFAULT = new Set([
  'ip-src', 'ip-dst', 'ip-src|port', 'ip-dst|port', 'domain', 'hostname', 'domain|ip', 'hostname|port', 'url', 'uri', 'md5', 'sha1',
  'sha224', 'sha256', 'sha384', 'sha512', 'ssdeep', 'imphash', 'filename', 'filename|md5', 'filename|sha1', 'filename|sha256',
  'filename|sha512', 'email', 'email-src', 'email-dst', 'email-attachment', 'mutex', 'regkey', 'regkey|value', 'x509-fingerprint-sha1',
  'x509-fingerprint-md5', 'x509-fingerprint-sha256', 'malware-sample', 'yara', 'snort', 'sigma',
]);

export function saneToIds(type: string): boolean {
  return IDS_BY_DEFAULT.has(type);
}

/** `default_category` of PyMISP data/describeTypes.json, for an attribute sent without a category. */
const CATEGORY_BY_DEFAULT: Readonly<Record<string, readonly string[]>> = {
  'Network activity': ['ip-src', 'ip-dst', 'ip-src|port', 'ip-dst|port', 'hostname', 'domain', 'domain|ip', 'hostname|port', 'url', 'uri', 'user-agent',
    'http-method', 'AS', 'snort', 'pattern-in-traffic', 'port', 'mac-address', 'mac-eui-64', 'email-dst', 'x509-fingerprint-sha1',
    'x509-fingerprint-md5', 'x509-fingerprint-sha256', 'ja3-fingerprint-md5', 'jarm-fingerprint', 'hassh-md5', 'hasshserver-md5', 'cookie', 'zeek', 'bro', 'community-id'],
  'Payload delivery': ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'sha512/224', 'sha512/256', 'sha3-224', 'sha3-256', 'sha3-384', 'sha3-512',
    'ssdeep', 'imphash', 'telfhash', 'impfuzzy', 'authentihash', 'vhash', 'pehash', 'tlsh', 'cdhash', 'filename', 'filename|md5', 'filename|sha1',
    'filename|sha224', 'filename|sha256', 'filename|sha384', 'filename|sha512', 'filename|ssdeep', 'filename|imphash', 'filename|tlsh', 'malware-sample',
    'email-src', 'email-subject', 'email-attachment', 'email-body', 'email-header', 'email-reply-to', 'email-x-mailer', 'email-message-id', 'email-mime-boundary'],
  'Artifacts dropped': ['mutex', 'regkey', 'regkey|value', 'named pipe', 'pdb', 'windows-scheduled-task', 'windows-service-name', 'windows-service-displayname'],
  'Payload installation': ['yara', 'sigma', 'pattern-in-file', 'pattern-in-memory'],
  'External analysis': ['vulnerability', 'weakness', 'link', 'attachment'],
  Attribution: ['campaign-name', 'campaign-id', 'threat-actor', 'whois-registrant-email', 'whois-registrant-phone', 'whois-registrant-name', 'whois-registrar'],
  'Social network': ['email', 'github-username', 'github-repository', 'github-organisation', 'jabber-id', 'twitter-id'],
  'Financial fraud': ['btc', 'xmr', 'iban', 'bic', 'bank-account-nr', 'cc-number', 'prtn'],
  'Targeting data': ['target-user', 'target-email', 'target-machine', 'target-org', 'target-location', 'target-external'],
  Person: ['first-name', 'last-name', 'full-name', 'phone-number', 'passport-number'],
};
const DEFAULT_CATEGORY = new Map(Object.entries(CATEGORY_BY_DEFAULT).flatMap(([c, types]) => types.map((t) => [t, c] as const)));

/** The category MISP gives an attribute of this type when none is sent ("Other" for types without one). */
export function defaultCategory(type: string): string {
  return DEFAULT_CATEGORY.get(type) ?? 'Other';
}

/**
 * Attributes and objects (an object's attributes included) one document may hold. Checked
 * before anything else is read: a 20,000-attribute event converts to about 80,000 STIX
 * objects, and a report may reference at most 100,000 (stix/validate DEFAULT_LIMITS). Larger
 * events must be split (docs/misp.md "Limits").
 */
export const MAX_EVENT_ELEMENTS = 20_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_VALUE = 1 << 20;

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

function bad(path: string, msg: string): AppError {
  return new AppError('BAD_REQUEST', `MISP event ${path}: ${msg}`, { details: { path } });
}

function str(r: Rec, key: string, path: string, opts: { required?: boolean; max?: number } = {}): string {
  const v = r[key];
  if (v === undefined || v === null) {
    if (opts.required) throw bad(`${path}.${key}`, 'is required');
    return '';
  }
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw bad(`${path}.${key}`, 'must be a string');
  const s = String(v);
  if (s.length > (opts.max ?? MAX_VALUE)) throw bad(`${path}.${key}`, `longer than ${opts.max ?? MAX_VALUE} characters`);
  return s;
}

function int(r: Rec, key: string, path: string, def: number): number {
  const v = r[key];
  if (v === undefined || v === null || v === '') return def;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw bad(`${path}.${key}`, `must be a non-negative integer, got ${JSON.stringify(v).slice(0, 40)}`);
  return n;
}

/** Latest timestamp accepted: 9999-12-31T23:59:59Z (a later one has no ISO 8601 form). */
const MAX_SECONDS = 253402300799;

function seconds(r: Rec, key: string, path: string, def: number): number {
  const n = int(r, key, path, def);
  if (n > MAX_SECONDS) throw bad(`${path}.${key}`, `${n} is after the year 9999; send Unix seconds`);
  return n;
}

/** An enumerated MISP level (threat_level_id, analysis). */
function bounded(r: Rec, key: string, path: string, o: { def: number; min: number; max: number; what: string }): number {
  const n = int(r, key, path, o.def);
  if (n < o.min || n > o.max) throw bad(`${path}.${key}`, `must be ${o.what}, got ${n}`);
  return n;
}

/** The event's date (MISP `date`, `YYYY-MM-DD`; a time after it, as some exports write, is dropped); '' when absent. */
function eventDate(r: Rec, path: string): string {
  const s = str(r, 'date', path, { max: 32 });
  if (s === '') return '';
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ][0-9:.+Z-]*)?$/.exec(s.trim());
  if (!m || Number.isNaN(Date.parse(m[1]!))) throw bad(`${path}.date`, `"${s.slice(0, 32)}" is not a date (YYYY-MM-DD)`);
  return m[1]!;
}

/** A MISP distribution level: 0-4, and 5 (inherit) for attributes and objects. */
function level(r: Rec, path: string, def: number): number {
  const n = int(r, 'distribution', path, def);
  if (n > 5) throw bad(`${path}.distribution`, `must be 0 (organisation), 1 (community), 2 (connected), 3 (all), 4 (sharing group) or 5 (inherit), got ${n}`);
  return n;
}

/** A MISP boolean: true/false, 1/0, "1"/"0", "true"/"false"; undefined for anything else. */
export function mispBoolean(v: unknown): boolean | undefined {
  if (v === true || v === 1 || v === '1' || v === 'true') return true;
  if (v === false || v === 0 || v === '0' || v === 'false') return false;
  return undefined;
}

function bool(r: Rec, key: string, def: boolean): boolean {
  const v = r[key];
  if (v === undefined || v === null) return def;
  return mispBoolean(v) === true;
}

function uuid(r: Rec, key: string, path: string): string {
  const s = str(r, key, path, { required: true, max: 64 }).toLowerCase();
  if (!UUID.test(s)) throw bad(`${path}.${key}`, `"${s.slice(0, 40)}" is not a UUID`);
  return s;
}

function list(r: Rec, key: string, path: string): Rec[] {
  const v = r[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(`${path}.${key}`, 'must be a list');
  return v.map((x, i) => {
    if (!isRec(x)) throw bad(`${path}.${key}[${i}]`, 'must be an object');
    return x;
  });
}

/**
 * The tags of an event, attribute or object. A tag MISP keeps on its own instance (`local`, or
 * not `exportable`) is the submitter's note to itself, not shared content: it is left out, except
 * a TLP or PAP tag, which restricts release (dropping it could only widen who reads).
 */
function tags(r: Rec, path: string): string[] {
  return list(r, 'Tag', path).flatMap((t, i) => {
    const name = str(t, 'name', `${path}.Tag[${i}]`, { required: true, max: 1024 });
    const own = mispBoolean(t.local) === true || mispBoolean(t.exportable) === false;
    return own && !/^(tlp|pap):/i.test(name.trim()) ? [] : [name];
  });
}

function org(v: unknown): MispOrg | null {
  if (!isRec(v)) return null;
  const u = typeof v.uuid === 'string' && UUID.test(v.uuid) ? v.uuid.toLowerCase() : null;
  return { uuid: u, name: typeof v.name === 'string' ? v.name.slice(0, 256) : '' };
}

function sighting(s: Rec, path: string): MispSighting {
  return {
    uuid: uuid(s, 'uuid', path), type: int(s, 'type', path, 0), dateSighting: int(s, 'date_sighting', path, 0),
    source: str(s, 'source', path, { max: 1024 }), org: org(s.Organisation),
  };
}

function cluster(c: Rec, path: string, galaxy: { type: string; name: string }): MispGalaxyCluster {
  const meta = isRec(c.meta) ? c.meta : {};
  const syn = Array.isArray(meta.synonyms) ? meta.synonyms.filter((x): x is string => typeof x === 'string') : [];
  const u = typeof c.uuid === 'string' && UUID.test(c.uuid) ? c.uuid.toLowerCase() : null;
  return {
    uuid: u, type: str(c, 'type', path, { max: 256 }) || galaxy.type, value: str(c, 'value', path, { required: true, max: 1024 }),
    description: str(c, 'description', path), synonyms: syn, galaxyName: galaxy.name,
  };
}

function galaxies(r: Rec, path: string): MispGalaxyCluster[] {
  return list(r, 'Galaxy', path).flatMap((g, i) => {
    const gi = { type: str(g, 'type', `${path}.Galaxy[${i}]`, { max: 256 }), name: str(g, 'name', `${path}.Galaxy[${i}]`, { max: 256 }) };
    return list(g, 'GalaxyCluster', `${path}.Galaxy[${i}]`).map((c, j) => cluster(c, `${path}.Galaxy[${i}].GalaxyCluster[${j}]`, gi));
  });
}

function attribute(a: Rec, path: string, defaultTs: number): MispAttribute {
  const type = str(a, 'type', path, { required: true, max: 100 });
  return {
    uuid: uuid(a, 'uuid', path), type, category: str(a, 'category', path, { max: 256 }) || defaultCategory(type), value: str(a, 'value', path, { required: true }),
    toIds: a.to_ids === undefined ? saneToIds(type) : bool(a, 'to_ids', false), distribution: level(a, path, 5),
    sharingGroupId: str(a, 'sharing_group_id', path, { max: 64 }) || '0', sharingGroup: sharingGroup(a.SharingGroup), timestamp: seconds(a, 'timestamp', path, defaultTs),
    comment: str(a, 'comment', path, { max: 65536 }), deleted: bool(a, 'deleted', false),
    firstSeen: str(a, 'first_seen', path, { max: 64 }) || null, lastSeen: str(a, 'last_seen', path, { max: 64 }) || null,
    objectRelation: str(a, 'object_relation', path, { max: 256 }) || null, tags: tags(a, path),
    sightings: list(a, 'Sighting', path).map((s, i) => sighting(s, `${path}.Sighting[${i}]`)), galaxies: galaxies(a, path),
  };
}

function object(o: Rec, path: string, defaultTs: number): MispObject {
  return {
    uuid: uuid(o, 'uuid', path), name: str(o, 'name', path, { required: true, max: 256 }), metaCategory: str(o, 'meta-category', path, { max: 256 }),
    description: str(o, 'description', path, { max: 4096 }), comment: str(o, 'comment', path, { max: 65536 }), timestamp: seconds(o, 'timestamp', path, defaultTs),
    distribution: level(o, path, 5), sharingGroupId: str(o, 'sharing_group_id', path, { max: 64 }) || '0', sharingGroup: sharingGroup(o.SharingGroup), deleted: bool(o, 'deleted', false),
    attributes: list(o, 'Attribute', path).map((a, i) => attribute(a, `${path}.Attribute[${i}]`, defaultTs)),
    references: list(o, 'ObjectReference', path).map((r, i) => ({
      uuid: typeof r.uuid === 'string' && UUID.test(r.uuid) ? r.uuid.toLowerCase() : null,
      referencedUuid: uuid(r, 'referenced_uuid', `${path}.ObjectReference[${i}]`),
      relationshipType: str(r, 'relationship_type', `${path}.ObjectReference[${i}]`, { required: true, max: 256 }),
      timestamp: r.timestamp === undefined ? null : int(r, 'timestamp', `${path}.ObjectReference[${i}]`, 0), deleted: bool(r, 'deleted', false),
    })),
  };
}

function sharingGroup(v: unknown): MispSharingGroup | null {
  if (!isRec(v)) return null;
  const orgs = (Array.isArray(v.SharingGroupOrg) ? v.SharingGroupOrg : []).map((x: unknown) => (isRec(x) ? org(x.Organisation) : null)).filter((x): x is MispOrg => x !== null);
  const owner = org(v.Organisation);
  const id = typeof v.id === 'string' || typeof v.id === 'number' ? String(v.id).slice(0, 64) : null;
  return { id, uuid: typeof v.uuid === 'string' ? v.uuid.toLowerCase() : null, name: typeof v.name === 'string' ? v.name : '', orgs: owner ? [owner, ...orgs] : orgs };
}

/**
 * One event from `{"Event": {...}}` or a bare event dict (as PyMISP posts it). An event without
 * `timestamp` (PyMISP's MISPEvent before a server saw it) takes the time of receipt, as the MISP
 * server does, and its attributes and objects without one take the event's: never 1970, which
 * no later version could follow.
 */
export function parseEvent(raw: unknown, path = 'Event', receivedS = 0): MispEvent {
  const e = isRec(raw) && isRec(raw.Event) ? raw.Event : raw;
  if (!isRec(e)) throw bad(path, 'must be an object');
  const timestamp = seconds(e, 'timestamp', path, receivedS);
  if (typeof e.info !== 'string') throw bad(`${path}.info`, e.info === undefined || e.info === null ? 'is required' : 'must be a string');
  const distribution = level(e, path, 3);
  if (distribution > 4) throw bad(`${path}.distribution`, `must be 0-4 for an event (5, inherit, is for attributes and objects), got ${distribution}`);
  const published = bool(e, 'published', false);
  return {
    uuid: uuid(e, 'uuid', path), info: str(e, 'info', path, { required: true, max: 65536 }), date: eventDate(e, path),
    // A published event without publish_timestamp (PyMISP's publish() before a server saw it) was published when last changed.
    timestamp, published, publishTimestamp: seconds(e, 'publish_timestamp', path, 0) || (published ? timestamp : 0),
    threatLevelId: bounded(e, 'threat_level_id', path, { def: 4, min: 1, max: 4, what: '1 (high), 2 (medium), 3 (low) or 4 (undefined)' }),
    analysis: bounded(e, 'analysis', path, { def: 0, min: 0, max: 2, what: '0 (initial), 1 (ongoing) or 2 (completed)' }),
    distribution, sharingGroupId: str(e, 'sharing_group_id', path, { max: 64 }) || '0',
    sharingGroup: sharingGroup(e.SharingGroup), orgc: org(e.Orgc), tags: tags(e, path),
    attributes: list(e, 'Attribute', path).map((a, i) => attribute(a, `${path}.Attribute[${i}]`, timestamp)),
    objects: list(e, 'Object', path).map((o, i) => object(o, `${path}.Object[${i}]`, timestamp)), galaxies: galaxies(e, path),
  };
}

/** Standalone objects (`{"response": [{"Object": ...}]}`, as in misp-stix's tests). */
export function parseObjects(raw: unknown): MispObject[] {
  const items = isRec(raw) && Array.isArray(raw.response) ? raw.response : Array.isArray(raw) ? raw : [raw];
  return items.map((x: unknown, i: number) => {
    if (!isRec(x)) throw bad(`response[${i}]`, 'must be an object');
    return object(isRec(x.Object) ? x.Object : x, `response[${i}].Object`, 0);
  });
}

/** The attributes and objects of one raw event, counted without reading them. */
function elementCount(raw: unknown): number {
  const e = isRec(raw) && isRec(raw.Event) ? raw.Event : raw;
  if (!isRec(e)) return 0;
  const objects = Array.isArray(e.Object) ? e.Object : [];
  let n = (Array.isArray(e.Attribute) ? e.Attribute.length : 0) + objects.length;
  for (const o of objects) {
    const inner = isRec(o) && isRec(o.Object) ? o.Object : o;
    if (isRec(inner) && Array.isArray(inner.Attribute)) n += inner.Attribute.length;
  }
  return n;
}

/**
 * Every event of a MISP document: `{"Event"}`, `{"response": [{"Event"}...]}` (restSearch),
 * a list of those, or one bare event. A document of more than MAX_EVENT_ELEMENTS attributes
 * and objects is refused (413) before any of it is read.
 */
export function parseMispDocument(raw: unknown, opts: { receivedS?: number } = {}): MispEvent[] {
  const at = opts.receivedS ?? 0;
  const items: unknown[] = Array.isArray(raw) ? raw : isRec(raw) && Array.isArray(raw.response) ? raw.response : [raw];
  let n = 0;
  for (const x of items) n += elementCount(x);
  if (n > MAX_EVENT_ELEMENTS) {
    throw new AppError('PAYLOAD_TOO_LARGE', `MISP event: ${n} attributes and objects, more than the ${MAX_EVENT_ELEMENTS} one request or file may hold; `
      + 'split the event (or post the events of a list one by one)', { details: { path: 'Event', count: n, max: MAX_EVENT_ELEMENTS } });
  }
  if (Array.isArray(raw)) return raw.map((x, i) => parseEvent(x, `[${i}].Event`, at));
  if (isRec(raw) && Array.isArray(raw.response)) return raw.response.map((x: unknown, i: number) => parseEvent(x, `response[${i}].Event`, at));
  return [parseEvent(raw, 'Event', at)];
}

/** Whether a parsed JSON document looks like MISP rather than STIX (format detection). */
export function isMispDocument(raw: unknown): boolean {
  if (Array.isArray(raw)) return raw.length > 0 && isRec(raw[0]) && isRec(raw[0].Event);
  if (!isRec(raw)) return false;
  if (isRec(raw.Event)) return true;
  if (Array.isArray(raw.response)) return raw.response.length > 0 && isRec(raw.response[0]) && isRec(raw.response[0].Event);
  return raw.type === undefined && typeof raw.info === 'string' && typeof raw.uuid === 'string';
}

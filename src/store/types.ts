/**
 * The one Store interface. Two dialects implement it (SQLite, the embedded default, and
 * PostgreSQL for scale) through the same Kysely code; dialect differences live in
 * `dialect.ts` implementations and are described by {@link StoreCapabilities}.
 */
import type { SpoolLines } from './spool-codec.js';
import type { Audience, Purpose, Tlp } from '../core/policy.js';

export type Role = 'analyst' | 'responder' | 'representative' | 'excon' | 'admin';
export const ROLES: readonly Role[] = ['analyst', 'responder', 'representative', 'excon', 'admin'];

export type OrgKind = 'member' | 'alliance-body';
export interface OrgRow {
  /** STIX identity id of the organisation (identity_class organization). */
  id: string;
  name: string;
  shortName: string;
  country: string | null;
  kind: OrgKind;
  /** Federated node the organisation lives on, or is reached through (`relayed`); null = this node. */
  node: string | null;
  /**
   * True: the organisation lives on another node, reached through `node` (a hub relays for it).
   * Absent or false: it lives on `node` itself.
   */
  relayed?: boolean;
  createdUs: number;
}

export interface UserRow {
  id: string;
  orgId: string;
  username: string;
  displayName: string;
  /** scrypt hash string, see access/passwords.ts. */
  passwordHash: string;
  roles: Role[];
  disabled: boolean;
  createdUs: number;
}

export type TokenKind = 'api' | 'session' | 'sensor' | 'peer';
export interface TokenRow {
  id: string;
  /** SHA-256 of the secret, hex. The secret itself is never stored. */
  hash: string;
  userId: string | null;
  orgId: string;
  kind: TokenKind;
  name: string;
  createdUs: number;
  expiresUs: number | null;
  revokedUs: number | null;
  lastUsedUs: number | null;
}

export interface GroupRow {
  /** STIX identity id (identity_class group): sharing groups are recipients like organisations. */
  id: string;
  name: string;
  description: string;
  ownerOrg: string;
  createdUs: number;
}

export interface CollectionRow {
  id: string;
  apiRoot: string;
  alias: string | null;
  title: string;
  description: string;
  createdUs: number;
}

/** `principal` is an organisation id, a sharing-group id, or '*' for every organisation. */
export interface CollectionAccessRow {
  collectionId: string;
  principal: string;
  canRead: boolean;
  canWrite: boolean;
}

/** One stored version of one object in one collection. */
export interface ObjectRow {
  collectionId: string;
  id: string;
  type: string;
  specVersion: string;
  /** Version key: `modified`, else `created`, else date_added, normalised to microseconds (core/time versionKey). */
  version: string;
  created: string | null;
  modified: string | null;
  /** TAXII date_added, microseconds since the epoch, unique and monotonic across the store. */
  dateAdded: number;
  creatorOrg: string | null;
  tlp: Tlp | null;
  recipients: string[];
  originNode: string | null;
  revoked: boolean;
  name: string | null;
  labels: string[];
  /** Lower-cased text searched by REST `q`. */
  searchText: string;
  /** The object as JSON, exactly as accepted ('' when the query asked for `jsonBytes`). */
  json: string;
  /** The stored JSON as its UTF-8 bytes, undecoded (only when the query asked for `jsonBytes`). */
  jsonBytes?: Buffer;
  /** Ends of a relationship (null for other types). */
  sourceRef?: string | null;
  targetRef?: string | null;
  /**
   * The signed provenance this node received with a federated version (federation/registry.ts
   * `Provenance`, as JSON): written with the row, read back only by `lean: 'with-recipients'`
   * queries (federation envelopes). Absent/null for versions created here and for versions pulled
   * before migration 0012 (their provenance stayed in the meta table).
   */
  provenance?: string | null;
}

export interface ObjectHead {
  id: string;
  /** Highest version key among the creator's stored versions (any collection). */
  lastVersion: string;
  /** Version key of the creator's earliest revoked version, if any version is revoked. */
  revokedAt: string | null;
  /**
   * The organisation that owns the id on this node: the creator_org of its first stored version
   * (any collection). Only it adds versions (docs/stix-versioning.md).
   */
  creatorOrg: string | null;
}

/** One stored copy of an object version (for the upsert: one (id, version) names one content). */
export interface StoredVersion {
  collectionId: string;
  id: string;
  version: string;
  dateAdded: number;
  creatorOrg: string | null;
  revoked: boolean;
  json: string;
  /** Asked for (`storedVersions(…, { release: true })`): the copy's release facts and signed provenance. */
  release?: { tlp: Tlp | null; recipients: string[]; originNode: string | null; provenance: string | null };
}

export type NewObjectRow = Omit<ObjectRow, 'dateAdded'>;

export type PutOutcome =
  | { status: 'added'; dateAdded: number }
  | { status: 'duplicate'; dateAdded: number }
  | { status: 'conflict'; message: string };

export type VersionSelector =
  | { kind: 'last' }
  | { kind: 'first' }
  | { kind: 'all' }
  | { kind: 'exact'; versions: string[] }
  /** TAXII allows combining keywords and timestamps, e.g. `first,last` or `last,2016-...Z`. */
  | { kind: 'union'; first: boolean; last: boolean; versions: string[] };

export interface ObjectQuery {
  /** Collections to read from (already checked for can_read by the caller). */
  collectionIds: readonly string[];
  audience: Audience;
  purpose: Purpose;
  ids?: readonly string[];
  types?: readonly string[];
  /** Default `last`. "last"/"first" are computed among the versions the audience may see. */
  version?: VersionSelector;
  /** Default: only the latest spec version of each object (all stored objects are 2.1). */
  specVersions?: readonly string[];
  /** Exclusive lower bound on date_added (µs). */
  addedAfter?: number;
  /**
   * Consider only the next `scanLimit` object versions after `addedAfter` (date_added order, in
   * these collections and of these types): bounds the rows a query with unindexed filters (search
   * text, labels, TLP, creators, what the audience may see) reads. When the window ends before the
   * page is full, the page says where (`scannedTo`) so the caller continues from there.
   */
  scanLimit?: number;
  /**
   * Latest versions first (version descending, then date_added): an object's newest `limit`
   * versions. With one collection and one id the unique index gives them in that order, so the
   * read stops after `limit` rows however many versions the object has.
   */
  latestVersionsFirst?: boolean;
  /**
   * Leave out objects that came from this node (origin_node): a federated peer reading a
   * collection is not sent back the copies of its own objects (docs/federation.md "Loops").
   */
  excludeOriginNode?: string;
  limit: number;
  /** REST search extras. */
  text?: string;
  labels?: readonly string[];
  tlps?: readonly (Tlp | 'none')[];
  creators?: readonly string[];
  /** Relationships whose source_ref or target_ref is this id. */
  relatedTo?: string;
  /**
   * For readers that show neither recipients, labels nor the search text (TAXII, which sends
   * the stored JSON): the rows come back with `recipients: []`, `labels: []` and
   * `searchText: ''`, saving the recipients query, the column reads and the labels parsing.
   * `'with-recipients'`: as lean, but the recipients and the provenance are read (federation
   * envelopes).
   */
  lean?: boolean | 'with-recipients';
  /**
   * With `lean`: each row carries the stored JSON as bytes (`jsonBytes`, `json` is ''), read
   * without decoding, for a reader that sends it verbatim (TAXII objects: the bytes go into the
   * response as stored, never parsed, decoded or re-encoded).
   */
  jsonBytes?: boolean;
}

export interface ObjectPage {
  rows: ObjectRow[];
  /** True when more rows match after the last one returned. */
  more: boolean;
  /** With `scanLimit`: the date_added the read stopped at when the page is not full and the store holds more after it. */
  scannedTo?: number;
}

export interface AuditRow {
  id: number;
  atUs: number;
  userId: string | null;
  orgId: string | null;
  tokenId: string | null;
  source: string | null;
  action: string;
  target: string | null;
  detail: string | null;
}
export type NewAuditRow = Omit<AuditRow, 'id'>;

export interface AuditQuery {
  orgId?: string;
  beforeId?: number;
  /** An action (`token.create`) or the start of one (`token.`). */
  actionPrefix?: string;
  userId?: string;
  sinceUs?: number;
  untilUs?: number;
  limit: number;
  scanLimit: number;
}

export interface StatusRow {
  id: string;
  apiRoot: string;
  createdUs: number;
  json: string;
}

/** One telemetry event in the ingest spool (normalised JSON), committed before it is acknowledged. */
export interface IngestRow {
  seq: number;
  orgId: string;
  sensorId: string;
  receivedUs: number;
  exerciseId: string | null;
  /** The line as the sensor sent it (format null: a normalised event as JSON, written before 0007). */
  event: string;
  /** The telemetry format the line was recognised as at ingestion. */
  format: string | null;
}

/** One request's accepted lines, as the spool keeps them (one row; store/spool-codec.ts). */
export interface NewIngestChunk extends SpoolLines {
  orgId: string;
  sensorId: string;
  receivedUs: number;
  exerciseId: string | null;
}

/**
 * A spool event the worker supervisor quarantined: processing it hung or crashed the worker twice
 * (DESIGN §2.7). Kept with its spool seq, the reason, and the rule or indicator it was evaluating.
 */
export interface DeadLetterRow extends IngestRow {
  reason: string;
  /** The Sigma rule id / indicator id (or stage) being evaluated when the worker was stopped; null when unknown. */
  ruleRef: string | null;
  attempts: number;
  createdUs: number;
}

/** Events and alerts counted per sensor and time bucket (added to, never overwritten). */
export interface RateRow {
  orgId: string;
  sensorId: string;
  bucketUs: number;
  exerciseId: string | null;
  events: number;
  alerts: number;
}

/** The queryable facts of an alert record (the record holds the document and the release policy). */
export interface AlertFactsRow {
  id: string;
  orgId: string;
  groupKey: string;
  source: string;
  severity: string;
  status: string;
  techniques: string[];
  count: number;
  firstUs: number;
  lastUs: number;
  exerciseId: string | null;
}

/** A domain record: a JSON document with the release-policy columns (DESIGN §2.1 applies to it). */
export interface RecordRow {
  id: string;
  kind: string;
  parentId: string | null;
  creatorOrg: string;
  tlp: Tlp | null;
  recipients: string[];
  originNode: string | null;
  /** Exercise the record belongs to; null = real operations (DESIGN §2.3). */
  exerciseId: string | null;
  state: string;
  createdUs: number;
  updatedUs: number;
  /** Optimistic revision: putRecord with a stale rev is refused. */
  rev: number;
  json: string;
}

export interface RecordQuery {
  kind: string;
  audience: Audience;
  purpose: Purpose;
  parentId?: string;
  states?: readonly string[];
  exerciseId?: string | null;
  limit: number;
  /** Exclusive bound on updated_us, newest first. */
  updatedBefore?: number;
  /** Oldest first instead, after this (updated_us, id) (a cursor walk). */
  after?: { us: number; id: string };
}

/** An append-only event of a record (timeline entries, national positions...): never updated. */
export interface RecordEventRow {
  seq: number;
  recordId: string;
  atUs: number;
  kind: string;
  orgId: string | null;
  userId: string | null;
  json: string;
}

export interface StoreCapabilities {
  readonly dialect: 'sqlite' | 'postgres';
  /** Several processes may share this store (PostgreSQL; SQLite only within one host). */
  readonly multiProcess: boolean;
}

export interface TransactionOptions {
  /**
   * False: the commit returns before it reaches the disk (no fsync of its own; the next durable
   * commit carries it). Only for state derived from durable data, committed with the cursor
   * that derives it (an index that follows the store): a machine crash rolls such a commit
   * back whole, and the follower derives it again. Default true. Ignored when joining an
   * enclosing transaction (the outer one decides).
   */
  durable?: boolean;
}

export interface Store {
  readonly capabilities: StoreCapabilities;
  /** Runs fn in one transaction; everything fn writes commits together or not at all. */
  transaction<T>(fn: (tx: Store) => Promise<T>, opts?: TransactionOptions): Promise<T>;
  close(): Promise<void>;

  getMeta(key: string): Promise<string | null>;
  setMeta(key: string, value: string): Promise<void>;
  /** Entries whose key starts with `prefix`, by key (federation peers, subscriptions, reject lists). */
  listMeta(prefix: string, limit?: number): Promise<{ key: string; value: string }[]>;
  /** How many entries have keys starting with `prefix`, counted up to `upTo` (default 1,000,000) without reading their values. */
  countMeta(prefix: string, upTo?: number): Promise<number>;
  /** The values of the given keys that exist. */
  getMetas(keys: readonly string[]): Promise<Map<string, string>>;
  deleteMeta(key: string): Promise<boolean>;
  /** Inserts the entries whose keys do not exist yet (existing keys keep their value). */
  addMetas(entries: readonly { key: string; value: string }[]): Promise<void>;
  /** Sets the key only if absent; returns the value now stored. */
  initMeta(key: string, value: string): Promise<string>;
  /**
   * Inserts the key only if absent; true when this call inserted it. Unlike a read before a
   * write, one of two racing writers wins (on PostgreSQL the second waits for the first to commit,
   * then finds the key), so a name registered twice at once is refused rather than overwritten.
   */
  createMeta(key: string, value: string): Promise<boolean>;

  putOrganisation(o: OrgRow): Promise<void>;
  getOrganisation(id: string): Promise<OrgRow | null>;
  listOrganisations(): Promise<OrgRow[]>;

  putUser(u: UserRow): Promise<void>;
  getUser(id: string): Promise<UserRow | null>;
  getUserByUsername(username: string): Promise<UserRow | null>;
  listUsers(orgId?: string): Promise<UserRow[]>;

  putToken(t: TokenRow): Promise<void>;
  getTokenByHash(hash: string): Promise<TokenRow | null>;
  getToken(id: string): Promise<TokenRow | null>;
  listTokens(filter: { orgId?: string; userId?: string }): Promise<TokenRow[]>;
  revokeToken(id: string, atUs: number): Promise<boolean>;
  touchToken(id: string, atUs: number): Promise<void>;

  putGroup(g: GroupRow): Promise<void>;
  getGroup(id: string): Promise<GroupRow | null>;
  listGroups(): Promise<GroupRow[]>;
  setGroupMembers(groupId: string, orgIds: readonly string[]): Promise<void>;
  groupMembers(groupId: string): Promise<string[]>;
  groupsOfOrg(orgId: string): Promise<string[]>;

  putCollection(c: CollectionRow): Promise<void>;
  getCollection(id: string): Promise<CollectionRow | null>;
  listCollections(apiRoot?: string): Promise<CollectionRow[]>;
  setCollectionAccess(rows: readonly CollectionAccessRow[]): Promise<void>;
  collectionAccess(collectionId?: string): Promise<CollectionAccessRow[]>;

  /**
   * Stores new object versions atomically: all rows commit together or none. Idempotent by
   * (collection, id, version): an identical re-post answers `duplicate`, a different body
   * under the same version answers `conflict` and is not stored.
   */
  putObjects(rows: readonly NewObjectRow[], nowUs: number): Promise<PutOutcome[]>;
  queryObjects(q: ObjectQuery): Promise<ObjectPage>;
  /**
   * What is already stored of these ids, in every collection, regardless of visibility (for the
   * upsert rules: only the creator versions an object, in any collection; a revoked object takes
   * no new version). One statement per 1,000 ids.
   */
  objectHeads(ids: readonly string[]): Promise<Map<string, ObjectHead>>;
  /**
   * Every stored copy (any collection, regardless of visibility) of these exact (id, version)
   * pairs, oldest first: an (id, version) names one content on every path.
   */
  storedVersions(keys: readonly { id: string; version: string }[], o?: { release?: boolean }): Promise<StoredVersion[]>;
  /**
   * Called in a transaction before it reads what is stored of the ids it will write: object
   * writers then run one after the other until commit, so the versioning rules decided on those
   * reads still hold when the rows go in (two processes on one PostgreSQL database could each
   * find an (id, version) free and store two contents under it). Takes the date_added clock
   * row, which `putObjects` locks until commit anyway; nothing else waits longer than before.
   */
  lockObjectWrites(): Promise<void>;
  /**
   * One unique µs value from the clock that orders date_added (at least `nowUs`, above every
   * value given before). In a transaction on PostgreSQL the clock row stays locked until commit,
   * so values come in commit order: a reader walking by them never misses a later commit.
   */
  allocateTime(nowUs: number): Promise<number>;
  /**
   * Federation: stores the provenance of versions of a collection that have none yet (a version
   * received again, first stored without it). Rows that have one keep it.
   */
  fillProvenance(collectionId: string, items: readonly { id: string; version: string; provenance: string }[]): Promise<void>;
  /** Federation: for each id, the provenance of one of its stored versions (any collection) that has one. */
  provenanceOf(ids: readonly string[]): Promise<Map<string, string>>;
  /** Records of a kind whose parent is one of these ids, WITHOUT the release policy (internal bookkeeping only). */
  recordsByParent(kind: string, parentIds: readonly string[]): Promise<RecordRow[]>;
  /** Number of object versions in a collection (all, regardless of visibility). */
  countObjects(collectionId: string): Promise<number>;
  /**
   * Every stored version of the given types added after a date_added, in date_added order,
   * WITHOUT the release policy: for in-process consumers that apply it themselves per
   * organisation (the indicator index). Never hand its rows to a reader. Lean rows: `labels`
   * and `searchText` are left empty.
   */
  scanObjects(q: { types: readonly string[]; addedAfter: number; limit: number; ids?: readonly string[] }): Promise<ObjectRow[]>;
  /**
   * Records of a kind updated after `afterUs`, oldest first, WITHOUT the release policy: for
   * in-process consumers that follow bookkeeping records (the indicator feed follows deletions).
   * With `afterId`, after the (updated_us, id) pair: records updated in one microsecond are not skipped.
   * `lean`: without the document (`json` empty), for deciding which records to read whole.
   */
  scanRecords(q: { kind: string; afterUs: number; afterId?: string; limit: number; lean?: boolean }): Promise<RecordRow[]>;
  /** Latest visible versions counted per creator organisation and TLP (alliance overview). */
  countVisibleByCreator(q: Pick<ObjectQuery, 'collectionIds' | 'audience' | 'purpose'>): Promise<{ creatorOrg: string | null; tlp: Tlp | null; n: number }[]>;
  /** Deletes the given versions (or all) of an object in a collection; returns how many. */
  deleteObject(collectionId: string, id: string, versions: readonly string[] | 'all'): Promise<number>;

  /**
   * Inserts (rev 1) or updates a record. An update must carry the rev it read plus one; when
   * the stored rev is not rev-1 the write is refused (returns false) and nothing changes.
   * `sameRecipients`: the update carries the recipients stored at rev-1 (the caller read or
   * wrote that revision), so they are not rewritten.
   */
  putRecord(r: RecordRow, o?: { sameRecipients?: boolean }): Promise<boolean>;
  getRecord(id: string): Promise<RecordRow | null>;
  /** The records with these ids that exist (any order), in batched reads. */
  getRecords(ids: readonly string[]): Promise<RecordRow[]>;
  /**
   * Inserts new records (rev 1) with multi-row statements in one transaction; an id that already
   * exists is left alone. Returns the ids inserted, in input order.
   */
  insertRecords(rows: readonly RecordRow[]): Promise<string[]>;
  /** Appends record events with multi-row statements (the batch form of appendRecordEvent). */
  appendRecordEvents(events: readonly Omit<RecordEventRow, 'seq'>[]): Promise<void>;
  /** Records of a kind visible to the audience, newest first (filtered in the query). */
  listRecords(q: RecordQuery): Promise<RecordRow[]>;
  /**
   * Alert records visible to the audience, newest first by when the alert was last seen (its
   * facts' last_us, then id): an acknowledgement changes updated_us, never the alert's age.
   * `before` is the keyset cursor of the previous page's last row.
   */
  listAlertRecords(q: Omit<RecordQuery, 'kind' | 'updatedBefore' | 'parentId'> & { before?: { lastUs: number; id: string } }): Promise<(RecordRow & { lastUs: number })[]>;
  /** Records of a kind per creating organisation, leaving out some states (aggregates only: no release check). */
  countRecordsByCreator(q: { kind: string; exceptStates: readonly string[]; exerciseId: string | null }): Promise<{ creatorOrg: string; n: number }[]>;
  appendRecordEvent(e: Omit<RecordEventRow, 'seq'>): Promise<number>;
  /**
   * The events of one record, in order; or, given a cursor, the events of every record after a
   * seq, WITHOUT the release policy (the federation record push follows them: records with new
   * events are looked at again). On PostgreSQL an event may commit after a later seq: a follower
   * of this cursor needs a slower walk beside it.
   */
  listRecordEvents(recordId: string | { afterSeq: number; limit: number }): Promise<RecordEventRow[]>;

  putStatus(s: StatusRow): Promise<void>;
  getStatus(id: string): Promise<StatusRow | null>;
  pruneStatuses(olderThanUs: number): Promise<number>;
  /**
   * Deletes web sessions and live-stream tickets (kind `session`) revoked or expired before
   * `olderThanUs`: one ticket is made per connection of the web app, so they would otherwise
   * pile up for ever. API, sensor and peer tokens are kept whatever their state.
   */
  pruneSessions(olderThanUs: number): Promise<number>;

  // ---- detection: ingest spool, rates, alert facts ----
  /**
   * Appends one request's accepted lines to the spool as one chunk (store/spool-codec.ts: an
   * event's seq is chunk seq × LINE_SLOTS + its line); returns the first and last event seq, null
   * for no lines. Chunk seqs only grow, even after the spool was pruned empty.
   */
  appendIngest(chunk: NewIngestChunk): Promise<{ firstSeq: number; lastSeq: number } | null>;
  /**
   * Spool events with seq > afterSeq, oldest first: up to `limit`, or (wholeChunks) every event of
   * each chunk read until `limit` is reached (the caller keeps the rest instead of reading again).
   */
  readIngest(afterSeq: number, limit: number, o?: { wholeChunks?: boolean }): Promise<IngestRow[]>;
  /** Events in the spool with seq > afterSeq (the queue depth). */
  countIngestAfter(afterSeq: number): Promise<number>;
  /** Highest event seq in the spool (0 when it is empty). */
  lastIngestSeq(): Promise<number>;
  /**
   * The `afterSeq` at which the spool's events received at or after `receivedUs` start: the seq
   * before the first of them (the last event's seq when all are older; 0 when the spool is empty).
   */
  ingestSeqBefore(receivedUs: number): Promise<number>;
  /** Deletes spool chunks whose every event has seq ≤ throughSeq, received before the given time. */
  pruneIngest(q: { throughSeq: number; receivedBeforeUs: number }): Promise<number>;
  /**
   * Sets key to value only when it holds `expected` (compare-and-set); false when another writer
   * moved it first. The detection cursor moves this way, so two workers never commit one batch twice.
   */
  casMeta(key: string, expected: string, value: string): Promise<boolean>;
  /** Quarantines a spool event (replaces an earlier dead letter of the same seq). */
  putDeadLetter(d: DeadLetterRow): Promise<void>;
  getDeadLetter(seq: number): Promise<DeadLetterRow | null>;
  /** Dead letters (of one organisation's telemetry when given), newest first, before the given seq when paging. */
  listDeadLetters(q: { orgId?: string; beforeSeq?: number; limit: number }): Promise<DeadLetterRow[]>;
  countDeadLetters(q?: { orgId?: string }): Promise<number>;
  deleteDeadLetter(seq: number): Promise<boolean>;
  /** Retried or discarded: no longer listed, its event still skipped (src/store/dead-letters.ts). */
  settleDeadLetter(seq: number): Promise<boolean>;
  /** Seqs of dead letters in [fromSeq, toSeq] (the worker skips them). */
  deadLetterSeqs(fromSeq: number, toSeq: number): Promise<number[]>;
  /** Adds events/alerts to the counters of each (bucket, org, sensor, exercise). */
  addRates(rows: readonly RateRow[]): Promise<void>;
  listRates(q: { sinceUs: number; exerciseId: string | null }): Promise<RateRow[]>;
  putAlertFacts(f: AlertFactsRow): Promise<void>;
  /**
   * Sets the status of an alert's facts, and nothing else: the detection worker may be adding
   * hits (count, last seen) to the same row meanwhile, and a whole row written back from an
   * earlier read would undo them.
   */
  setAlertFactsStatus(id: string, status: string): Promise<void>;
  getAlertFacts(id: string): Promise<AlertFactsRow | null>;
  /**
   * Facts of alerts last seen (event time) at or after sinceUs (newest first): real ones
   * (`exerciseId` null), one exercise's, or (`'*'`) all of them — the detection worker's open
   * groups. With `writtenSinceUs`, also those whose alert record was written at or after it (by
   * the node's clock), whatever their event time: the groups of telemetry replayed from the past.
   */
  listAlertFacts(q: { sinceUs: number; exerciseId: string | null | '*'; limit: number; writtenSinceUs?: number }): Promise<AlertFactsRow[]>;
  /** Exercise isolation (DESIGN §2.3): every row an exercise left, in every table that carries exercise_id; returns the rows removed. */
  purgeExercise(exerciseId: string): Promise<number>;
  /** Ids of the records of one exercise (any kind), for the exercise's own views and the purge check. */
  countExerciseRows(exerciseId: string): Promise<number>;

  appendAudit(a: NewAuditRow): Promise<void>;
  listAudit(filter: { orgId?: string; beforeId?: number; limit: number }): Promise<AuditRow[]>;
  /**
   * Audit entries newest first, filtered, reading at most `scanLimit` entries (of the organisation,
   * below `beforeId`): `scannedTo` is the lowest id of that window when it was read whole without
   * `limit` matches (the next page goes on below it), else null.
   */
  searchAudit(q: AuditQuery): Promise<{ rows: AuditRow[]; scannedTo: number | null }>;

  // correlation & warninglists ----
  /**
   * Replaces the observable values of each object with those of the given version, when that
   * version is the object's latest stored one (an older version arriving late changes nothing).
   * A value already counted in more than `cap` objects is not recorded again; a value that
   * crosses the cap here is marked frequent and returned.
   */
  indexObservables(entries: readonly ObservableEntry[], opts: { cap: number; nowUs: number }): Promise<{ indexed: number; newlyFrequent: FrequentValueRow[] }>;
  /** Every stored object version (all collections, regardless of visibility) added after afterUs, oldest first. */
  objectsAddedAfter(afterUs: number, limit: number): Promise<AddedVersion[]>;
  /**
   * How many object versions (of the given types, else all) were added after afterUs, and the
   * date_added of the oldest of them (null when none): how far an index following the store
   * by date_added is behind (GET /api/v1/system).
   */
  backlog(q: { afterUs: number; types?: readonly string[] }): Promise<{ count: number; oldestUs: number | null }>;
  /**
   * Indexed values matching the lookups whose object (its indexed version) the audience may
   * read, in the given collections, other than excludeObjectId. Release is decided in the query.
   */
  observableLinks(q: { lookups: readonly ObservableLookup[]; excludeObjectId: string; collectionIds: readonly string[]; audience: Audience; limit: number }): Promise<ObservableLinkRow[]>;
  /** Values marked frequent (over the cap): the given ones, or all (most recent first). */
  frequentValues(q: { keys?: readonly { kind: ObservableKind; value: string }[]; limit: number }): Promise<FrequentValueRow[]>;
  /** Indexed (object, value) rows and frequent values, for status pages. */
  observableStats(): Promise<{ rows: number; frequent: number }>;
  /** Empties the correlation index (rows and frequent marks): a full re-index follows. Returns what it removed. */
  clearObservables(): Promise<{ rows: number; frequent: number }>;
  putCorrelationExclusion(e: CorrelationExclusionRow): Promise<void>;
  listCorrelationExclusions(): Promise<CorrelationExclusionRow[]>;
  deleteCorrelationExclusion(id: string): Promise<boolean>;
  /** Inserts or replaces a warninglist and all its entries. */
  putWarninglist(w: WarninglistRow, entries: readonly string[]): Promise<void>;
  listWarninglists(): Promise<(WarninglistRow & { entryCount: number })[]>;
  warninglistEntries(listId: string): Promise<string[]>;
  setWarninglistEnabled(id: string, enabled: boolean, atUs: number): Promise<boolean>;
  deleteWarninglist(id: string): Promise<boolean>;
  // ---- end correlation & warninglists
}

// correlation & warninglists ----
/** Kinds of observable values that are correlated and matched against warninglists. */
export type ObservableKind = 'ip' | 'domain' | 'url' | 'hash' | 'email' | 'string';

/** One normalised value; IP addresses and blocks also carry a sortable network key. */
export interface ObservableValue {
  kind: ObservableKind;
  value: string;
  /** 'v4:' + 8 or 'v6:' + 32 lower-case hex digits of the network address; null for non-IP values. */
  ipKey: string | null;
  /** Prefix length of an IP block (32/128 for an address); null for non-IP values. */
  ipPrefix: number | null;
}

export interface ObservableEntry {
  collectionId: string;
  objectId: string;
  version: string;
  /** Values of that version; empty to drop the object's values (e.g. revoked). */
  values: readonly ObservableValue[];
  /**
   * Set when this version was the object's only stored version when it was read
   * (AddedVersion.others false): its own row is then the object's head, and the index does not
   * look the object's versions up again. A version stored since has a later date_added, so the
   * indexer reads it in a later slice, where it sees both.
   */
  sole?: { seq: number; creatorOrg: string | null; dateAdded: number };
}

/** A stored object version as the correlation indexer follows them (Store.objectsAddedAfter). */
export interface AddedVersion extends StoredVersion {
  seq: number;
  /**
   * Whether another version of (collectionId, id) was stored when it was read (a probe of the
   * unique index: constant time however many versions the object has).
   */
  others: boolean;
}

/** An exact value, or IP blocks inside [keyFrom, keyTo] with a prefix longer than prefixAbove. */
export type ObservableLookup =
  | { kind: ObservableKind; value: string }
  | { kind: 'ip'; keyFrom: string; keyTo: string; prefixAbove: number };

export interface ObservableLinkRow {
  kind: ObservableKind;
  value: string;
  collectionId: string;
  objectId: string;
  type: string;
  name: string | null;
  version: string;
  creatorOrg: string | null;
  tlp: Tlp | null;
  dateAdded: number;
}

export interface FrequentValueRow {
  kind: ObservableKind;
  value: string;
  sinceUs: number;
}

/** An admin-managed value, CIDR block or regular expression that is never correlated. */
export interface CorrelationExclusionRow {
  id: string;
  type: 'value' | 'cidr' | 'regex';
  /** Kind the exclusion applies to; null = every kind. */
  kind: ObservableKind | null;
  pattern: string;
  comment: string;
  createdUs: number;
  createdBy: string | null;
}

export type WarninglistType = 'string' | 'substring' | 'hostname' | 'cidr' | 'regex';
export interface WarninglistRow {
  id: string;
  name: string;
  version: number;
  description: string;
  type: WarninglistType;
  /** MISP attribute types the list applies to (empty = every kind). */
  matchingAttributes: string[];
  enabled: boolean;
  /** Shipped with Shieldwall (may be disabled, not deleted). */
  builtin: boolean;
  createdUs: number;
  updatedUs: number;
}
// ---- end correlation & warninglists

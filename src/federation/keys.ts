/**
 * The node's federation keys, kept in its data directory with mode 0600 (docs/federation.md):
 * - `federation-ed25519.pem`: the Ed25519 private key (PKCS#8) the node signs the object
 *   versions it originates with; its public key is what peers register for this node.
 * - `federation-secret.key`: 32 random bytes, the AES-256-GCM key that keeps peer credentials
 *   (the tokens other nodes issued to this one) encrypted at rest in the store.
 * Both are created on first use. Losing the secret makes the stored peer tokens unreadable
 * (re-add the peers); losing the signing key makes every peer refuse this node's new versions
 * until they register the new public key. Both rotate (stageSigningKey; secret-rotation.ts).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { canonicalJson } from '../core/canonical-json.js';
import { NODE_NAME_FILE, storedNodeName } from '../config/index.js';

export const SIGNING_KEY_FILE = 'federation-ed25519.pem';
export const SECRET_KEY_FILE = 'federation-secret.key';

export interface NodeKeys {
  readonly node: string;
  readonly privateKey: crypto.KeyObject;
  /** Base64 of the raw 32-byte Ed25519 public key (what `peer add --public-key` takes). */
  readonly publicKey: string;
  readonly secret: Buffer;
}

function readOrCreate(file: string, make: () => Buffer): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const data = make();
  try {
    // 'wx': of two processes starting together, one writes and the other reads its key.
    fs.writeFileSync(file, data, { mode: 0o600, flag: 'wx' });
    return data;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return fs.readFileSync(file);
    throw e;
  }
}

/** How often a cached key checks its file (a rotation by another process on the same data directory). */
const RECHECK_MS = 1000;

interface Cached {
  keys: NodeKeys;
  /** The signing key and secret files as read (`ino:mtime`): a rotation replaces a file (a new inode). */
  stamp: string;
  checkedAt: number;
}

const cache = new Map<string, Cached>();

/** A new Ed25519 private key, PKCS#8 PEM (what SIGNING_KEY_FILE holds). */
function newSigningKeyPem(): string {
  return crypto.generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

function filesStamp(dataDir: string): string {
  return [SIGNING_KEY_FILE, SECRET_KEY_FILE].map((f) => {
    const st = fs.statSync(path.join(dataDir, f));
    return `${st.ino}:${st.mtimeMs}`;
  }).join(' ');
}

/** Writes `file` whole or not at all: beside it, synced, then renamed over it (a reader sees the old content or the new). */
function writeFileDurably(file: string, data: string | Buffer): void {
  const tmp = `${file}.${process.pid}.new`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** Forgets the cached keys of a data directory (a rotation in this process). */
function forget(dataDir: string): void {
  for (const k of [...cache.keys()]) if (k.startsWith(`${dataDir}\u0000`)) cache.delete(k);
}

/**
 * The keys of the node named `node`, from (or created in) `dataDir`. A key rotated by another
 * process on the same data directory (`rotateNodeKey`: the CLI beside a running server) is
 * picked up within a second.
 */
export function nodeKeys(dataDir: string, node: string): NodeKeys {
  const k = `${dataDir}\u0000${node}`;
  const hit = cache.get(k);
  const keyFile = path.join(dataDir, SIGNING_KEY_FILE);
  if (hit) {
    const now = Date.now();
    if (now - hit.checkedAt < RECHECK_MS) return hit.keys;
    let stamp: string | null = null;
    try {
      stamp = filesStamp(dataDir);
    } catch {
      // Gone (a data directory being removed): keep signing with the key in memory.
    }
    if (stamp === null || stamp === hit.stamp) {
      hit.checkedAt = now;
      return hit.keys;
    }
    cache.delete(k);
  }
  const pem = readOrCreate(keyFile, () => Buffer.from(newSigningKeyPem()));
  const secret = readOrCreate(path.join(dataDir, SECRET_KEY_FILE), () => crypto.randomBytes(32));
  if (secret.length !== 32) throw new Error(`${SECRET_KEY_FILE} in ${dataDir} must hold 32 bytes`);
  // The keys belong to one node name: the first that used them (config refuses another).
  const owner = storedNodeName(dataDir);
  if (owner === null) {
    try {
      fs.writeFileSync(path.join(dataDir, NODE_NAME_FILE), `${node}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  const named = owner ?? storedNodeName(dataDir);
  if (named !== null && named !== node) throw new Error(`the federation keys in ${dataDir} belong to node "${named}", not "${node}" (${NODE_NAME_FILE})`);
  const privateKey = crypto.createPrivateKey(pem);
  const keys = Object.freeze({ node, privateKey, publicKey: rawPublicKey(crypto.createPublicKey(privateKey)), secret });
  cache.set(k, { keys, stamp: filesStamp(dataDir), checkedAt: Date.now() });
  return keys;
}

/**
 * A new signing key for a rotation (docs/federation.md "Rotating the signing key"), written beside
 * the current one under a name that carries its public key: the store records the new public key
 * first (FederationRegistry.rotateKey), then promoteSigningKey makes it the node's. A rotation
 * whose store write failed leaves the current key signing; one whose process died after the
 * write is finished by the next process that compares its keys with the store's record. The old
 * private key is not kept (after a compromise it must not be).
 */
export function stageSigningKey(dataDir: string): { pem: string; publicKey: string } {
  const pem = newSigningKeyPem();
  const publicKey = rawPublicKey(crypto.createPublicKey(crypto.createPrivateKey(pem)));
  writeFileDurably(stagedKeyFile(dataDir, publicKey), pem);
  return { pem, publicKey };
}

const stagedKeyFile = (dataDir: string, publicKey: string) => path.join(dataDir, `${SIGNING_KEY_FILE}.next.${Buffer.from(publicKey, 'base64').toString('hex')}`);

/** The staged signing key (PEM) whose public key is `publicKey`, or null. */
export function stagedSigningKey(dataDir: string, publicKey: string): string | null {
  try {
    const pem = fs.readFileSync(stagedKeyFile(dataDir, publicKey), 'utf8');
    return rawPublicKey(crypto.createPublicKey(crypto.createPrivateKey(pem))) === publicKey ? pem : null;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Makes the staged key the node's signing key (whole or not at all) and removes its staged copy. */
export function promoteSigningKey(dataDir: string, staged: { pem: string; publicKey: string }): void {
  writeFileDurably(path.join(dataDir, SIGNING_KEY_FILE), staged.pem);
  discardStagedSigningKey(dataDir, staged.publicKey);
  forget(dataDir);
}

export function discardStagedSigningKey(dataDir: string, publicKey: string): void {
  fs.rmSync(stagedKeyFile(dataDir, publicKey), { force: true });
}

/**
 * The next secret while a secret rotation is under way (federation/secret-rotation.ts), named by
 * its check value: written before the store commits the credentials re-sealed with it and the
 * record naming it, then written as SECRET_KEY_FILE. A process that finds the store's record
 * naming a staged secret (a rotation committed, then its process died) makes it the node's.
 */
const stagedFile = (dataDir: string, check: string) => path.join(dataDir, `${SECRET_KEY_FILE}.next.${check}`);

/** Writes a new random secret beside the current one and returns it with its check value. */
export function stageSecret(dataDir: string): { secret: Buffer; check: string } {
  const secret = crypto.randomBytes(32);
  const check = secretCheck(secret);
  writeFileDurably(stagedFile(dataDir, check), secret);
  return { secret, check };
}

/** The staged secret whose check value is `check`, or null. */
export function stagedSecret(dataDir: string, check: string): Buffer | null {
  try {
    const b = fs.readFileSync(stagedFile(dataDir, check));
    return b.length === 32 && secretCheck(b) === check ? b : null;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Makes `secret` the node's (whole or not at all) and removes its staged copy. */
export function promoteSecret(dataDir: string, secret: Buffer): void {
  writeFileDurably(path.join(dataDir, SECRET_KEY_FILE), secret);
  discardStagedSecret(dataDir, secretCheck(secret));
  forget(dataDir);
}

export function discardStagedSecret(dataDir: string, check: string): void {
  fs.rmSync(stagedFile(dataDir, check), { force: true });
}

/** What the store records of a node's keys, and what a data directory's files make. */
export interface KeyRecordLike {
  publicKey: string;
  secretCheck: string;
}

/**
 * Finishes a rotation that the store's record names but the key files do not hold yet (it
 * committed, then its process died; or a backup was taken meanwhile): the staged key or secret
 * the record names becomes the node's. Keys not staged stay as they are.
 */
export function finishStagedRotation(dataDir: string, stored: KeyRecordLike, files: KeyRecordLike): void {
  const secret = stored.secretCheck !== files.secretCheck ? stagedSecret(dataDir, stored.secretCheck) : null;
  if (secret) promoteSecret(dataDir, secret);
  const pem = stored.publicKey !== files.publicKey ? stagedSigningKey(dataDir, stored.publicKey) : null;
  if (pem) promoteSigningKey(dataDir, { pem, publicKey: stored.publicKey });
  forget(dataDir);
}

/** Reads the key files again at the next nodeKeys (another process may have just rotated one). */
export function reloadNodeKeys(dataDir: string): void {
  forget(dataDir);
}

/**
 * A check value of the node's secret (the key that seals peer tokens), safe to store beside
 * them: HMAC-SHA-256 of a fixed label. Two processes of one node compare it to find out that
 * they do not hold the same secret, without either revealing it.
 */
export function secretCheck(secret: Buffer): string {
  return crypto.createHmac('sha256', secret).update('shieldwall-federation-secret-check-v1').digest('base64url').slice(0, 22);
}

function rawPublicKey(k: crypto.KeyObject): string {
  const jwk = k.export({ format: 'jwk' }) as { x?: string };
  return Buffer.from(jwk.x ?? '', 'base64url').toString('base64');
}

/** The public key (base64 of the raw 32 bytes) of a private key file's PEM. */
export function rawPublicKeyOf(pem: string): string {
  return rawPublicKey(crypto.createPublicKey(crypto.createPrivateKey(pem)));
}

/** A public key given as base64 of the raw 32 bytes, or null when it is not one. */
export function parsePublicKey(b64: string): crypto.KeyObject | null {
  const raw = /^[A-Za-z0-9+/]{43}=$/.test(b64) ? Buffer.from(b64, 'base64') : null;
  if (!raw || raw.length !== 32) return null;
  try {
    return crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  } catch {
    return null;
  }
}

/** AES-256-GCM: `v1.<iv>.<tag>.<ciphertext>` (base64url). */
export function seal(secret: Buffer, plain: string): string {
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', secret, iv);
  const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return ['v1', iv.toString('base64url'), c.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

export function unseal(secret: Buffer, sealed: string): string {
  const [v, iv, tag, body] = sealed.split('.');
  if (v !== 'v1' || !iv || !tag || body === undefined) throw new Error('not a sealed peer credential');
  const d = crypto.createDecipheriv('aes-256-gcm', secret, Buffer.from(iv, 'base64url'));
  d.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]).toString('utf8');
}

/**
 * What the origin node signs for one object version: the object exactly as created and the
 * policy facts it released it under. A relay can change none of them without breaking the
 * signature; the path it travelled is per hop and not signed.
 */
export interface SignedFacts {
  object: Record<string, unknown>;
  origin: string;
  creator: string | null;
  recipients: readonly string[];
  /**
   * The TLP of a version whose object carries no TLP marking, given at import as a policy fact
   * (docs/stix-versioning.md rule 1): signed beside the object, which is never edited. Absent
   * when the object says its TLP itself (and in every envelope signed before this fact existed).
   */
  tlp?: string;
}

/** The RFC 8785 form of the facts: the signed text (its UTF-8 bytes are what is signed and hashed). */
function signedText(f: SignedFacts): string {
  return canonicalJson({ object: f.object, origin: f.origin, creator: f.creator, recipients: [...f.recipients].sort(), ...(f.tlp !== undefined ? { tlp: f.tlp } : {}) });
}

export function signedBytes(f: SignedFacts): Buffer {
  return Buffer.from(signedText(f), 'utf8');
}

/** Ed25519 signature (base64) of a message. */
export function signMessage(k: crypto.KeyObject, message: Buffer): string {
  return crypto.sign(null, message, k).toString('base64');
}

/** Whether `signature` (base64) is `k`'s over the message; false for anything malformed. */
export function verifyMessage(k: crypto.KeyObject, message: Buffer, signature: string): boolean {
  try {
    return crypto.verify(null, message, k, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

export function signFacts(k: crypto.KeyObject, f: SignedFacts): string {
  return signMessage(k, signedBytes(f));
}

export function verifyFacts(k: crypto.KeyObject, f: SignedFacts, signature: string): boolean {
  let bytes: Buffer;
  try {
    bytes = signedBytes(f);
  } catch {
    return false; // facts that have no canonical JSON (a peer's input): never signed by anyone
  }
  return verifyMessage(k, bytes, signature);
}

/**
 * Batch signatures (docs/federation.md "Integrity"): the origin signs once per page of the
 * versions it serves, over the root of a Merkle tree (RFC 9162 §2.1: leaf = SHA-256(0x00 ‖
 * canonical facts), node = SHA-256(0x01 ‖ left ‖ right)) whose leaves are the facts of each
 * version. Each envelope carries the root's signature and its own inclusion path, so one
 * version still verifies alone (and can be relayed alone), while a receiver verifies one
 * Ed25519 signature per root instead of one per object. The signed message is the domain
 * string below, the tree size and the root: it can never be mistaken for signed facts (which
 * are canonical JSON, starting with `{`).
 */
export interface BatchProof {
  /** Number of leaves in the tree. */
  size: number;
  /** This version's leaf index. */
  index: number;
  /** Inclusion path (RFC 9162 §2.1.3), base64 SHA-256 hashes, leaf to root. */
  path: string[];
}

const BATCH_DOMAIN = 'shieldwall-federation-batch-v1\u0000';

// One-shot hashing (Node ≥ 20.12) costs a third of a Hash object per call; the tree hashes many small inputs.
const oneShot = (crypto as unknown as { hash?: (alg: string, data: Buffer | string, enc: 'buffer') => Buffer }).hash;

function sha256(...parts: Buffer[]): Buffer {
  if (oneShot) return oneShot('sha256', parts.length === 1 ? parts[0]! : Buffer.concat(parts), 'buffer');
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

export function leafHash(f: SignedFacts): Buffer {
  const text = signedText(f);
  // U+0000 is the single byte 0x00 in UTF-8: hashing the string '\0' + text hashes LEAF ‖ bytes,
  // without copying the text into a Buffer and then into a concatenation of the two.
  if (oneShot) return oneShot('sha256', `\u0000${text}`, 'buffer');
  return sha256(LEAF, Buffer.from(text, 'utf8'));
}

/** Largest power of two strictly less than n (n ≥ 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The tree's root and every leaf's inclusion path (RFC 9162 §2.1.1, §2.1.3.1), in O(n log n). */
function buildTree(leaves: readonly Buffer[]): { root: Buffer; paths: Buffer[][] } {
  const paths: Buffer[][] = leaves.map(() => []);
  const build = (lo: number, hi: number): Buffer => {
    if (hi - lo === 1) return leaves[lo]!;
    const k = split(hi - lo);
    const l = build(lo, lo + k);
    const r = build(lo + k, hi);
    for (let i = lo; i < lo + k; i++) paths[i]!.push(r);
    for (let i = lo + k; i < hi; i++) paths[i]!.push(l);
    return sha256(NODE, l, r);
  };
  return { root: build(0, leaves.length), paths };
}

/**
 * Walks a proof from `leaf` to the root, level by level: at each level a node with a right
 * neighbour pairs with it, the last node of an odd level is promoted unchanged (the same tree
 * as RFC 9162's split at the largest power of two). Calls `visit(level, position, hash, rest)`
 * for every node on the way (`rest`: the path elements above it); a visit returning a boolean
 * ends the walk with that answer. Returns the root, or null when the proof is malformed.
 */
function walkProof(leaf: Buffer, p: BatchProof, visit?: (key: string, hash: Buffer, rest: number) => boolean | undefined): Buffer | boolean | null {
  if (typeof p !== 'object' || p === null || !Number.isSafeInteger(p.size) || !Number.isSafeInteger(p.index) || p.index < 0 || p.index >= p.size || !Array.isArray(p.path) || p.path.length > 64) return null;
  let pos = p.index;
  let width = p.size;
  let level = 0;
  let j = 0;
  let r = leaf;
  while (width > 1) {
    const seen = visit?.(`${level}:${pos}`, r, j);
    if (seen !== undefined) return seen;
    const right = (pos & 1) === 0;
    if (!right || pos + 1 < width) {
      const b64 = p.path[j++];
      if (typeof b64 !== 'string') return null;
      const h = Buffer.from(b64, 'base64');
      if (h.length !== 32) return null;
      r = right ? sha256(NODE, r, h) : sha256(NODE, h, r);
    }
    pos = Math.floor(pos / 2);
    width = Math.ceil(width / 2);
    level++;
  }
  return j === p.path.length ? r : null;
}

/**
 * Calls `sibling(level, position)` for each node a proof of leaf `index` in a tree of `size`
 * leaves holds, leaf to root (the walk of `walkProof`: a node's sibling, where it has one); stops
 * at a false. False for an index outside the tree.
 */
export function walkSiblings(size: number, index: number, sibling: (level: number, position: number) => boolean): boolean {
  if (!Number.isSafeInteger(size) || !Number.isSafeInteger(index) || index < 0 || index >= size) return false;
  let pos = index;
  let width = size;
  for (let level = 0; width > 1; level++) {
    if ((pos & 1) === 1 || pos + 1 < width) {
      if (!sibling(level, pos ^ 1)) return false;
    }
    pos = Math.floor(pos / 2);
    width = Math.ceil(width / 2);
  }
  return true;
}

/** The root a proof leads to from `leaf`, or null when the proof is malformed. */
export function rootFromProof(leaf: Buffer, p: BatchProof): Buffer | null {
  const r = walkProof(leaf, p);
  return Buffer.isBuffer(r) ? r : null;
}

function batchMessage(size: number, root: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${BATCH_DOMAIN}${size}\u0000`, 'utf8'), root]);
}

/** Signs the facts of many versions with one signature: per version, the signature and its proof. */
export function signBatch(k: crypto.KeyObject, facts: readonly SignedFacts[]): { signature: string; proofs: BatchProof[] } {
  if (facts.length === 0) return { signature: '', proofs: [] };
  const leaves = facts.map(leafHash);
  const { root, paths } = buildTree(leaves);
  const signature = crypto.sign(null, batchMessage(leaves.length, root), k).toString('base64');
  return { signature, proofs: paths.map((path, i) => ({ size: leaves.length, index: i, path: path.map((h) => h.toString('base64')) })) };
}

/** What a receiver remembers of the batches it verified (one per receive call). */
export interface BatchCache {
  /** `key|size|signature` → (node `level:pos` → its hash and the path above it) of nodes under a verified root. */
  nodes: Map<string, Map<string, ProvenNode>>;
  /** Signed messages already checked, by `key|message|signature`. */
  roots: Map<string, boolean>;
}

interface ProvenNode {
  hash: Buffer;
  /** The proof it was proven with, and where the part above this node starts in it. */
  path: readonly string[];
  from: number;
}

function samePathAbove(a: readonly string[], from: number, n: ProvenNode): boolean {
  if (a.length - from !== n.path.length - n.from) return false;
  for (let i = 0; from + i < a.length; i++) if (a[from + i] !== n.path[n.from + i]) return false;
  return true;
}

export const newBatchCache = (): BatchCache => ({ nodes: new Map(), roots: new Map() });

/**
 * Verifies one version's facts against a batch signature and its inclusion proof. With a
 * cache, a batch costs one Ed25519 verification, and a later version of the same batch stops
 * hashing at the first node already proven under the verified root (its remaining path must
 * then equal the proven one): about two hashes per version instead of one per tree level.
 */
export function verifyBatchFacts(k: crypto.KeyObject, f: SignedFacts, signed: { signature: string; proof: BatchProof }, cache?: BatchCache): boolean {
  const { signature, proof } = signed;
  if (typeof signature !== 'string') return false;
  let leaf: Buffer;
  try {
    leaf = leafHash(f);
  } catch {
    return false; // facts that have no canonical JSON (a peer's input): never signed by anyone
  }
  const batchKey = `${rawKeyId(k)}|${typeof proof === 'object' && proof !== null ? String(proof.size) : ''}|${signature}`;
  const proven = cache?.nodes.get(batchKey);
  const walked: [string, Buffer, number][] = [];
  /** The nodes this walk visited are proven under the verified root: later versions stop at them. */
  const remember = (nodes: Map<string, ProvenNode>) => {
    const path = [...proof.path];
    for (const [key, hash, rest] of walked) nodes.set(key, { hash, path, from: rest });
    return nodes;
  };
  const r = walkProof(leaf, proof, (key, hash, rest) => {
    const hit = proven?.get(key);
    if (hit !== undefined) return hit.hash.equals(hash) && samePathAbove(proof.path, rest, hit);
    if (cache) walked.push([key, hash, rest]);
    return undefined;
  });
  if (typeof r === 'boolean') {
    // Stopped at a proven node, with the proven path above it: every node walked below it is
    // proven under the same verified root too (without recording them, each later version
    // walked up to the first version's spine: ~8 hashes instead of ~2 at 1,000 leaves).
    if (r && proven) remember(proven);
    return r;
  }
  if (!r) return false;
  const msg = batchMessage(proof.size, r);
  const rootKey = `${batchKey}|${msg.toString('base64')}`;
  let ok = cache?.roots.get(rootKey);
  if (ok === undefined) {
    try {
      ok = crypto.verify(null, msg, k, Buffer.from(signature, 'base64'));
    } catch {
      ok = false;
    }
    cache?.roots.set(rootKey, ok);
  }
  if (ok && cache) cache.nodes.set(batchKey, remember(proven ?? new Map<string, ProvenNode>()));
  return ok;
}

const keyIds = new WeakMap<crypto.KeyObject, string>();
function rawKeyId(k: crypto.KeyObject): string {
  let id = keyIds.get(k);
  if (!id) {
    id = rawPublicKey(k.type === 'private' ? crypto.createPublicKey(k) : k);
    keyIds.set(k, id);
  }
  return id;
}

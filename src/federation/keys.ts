/**
 * The node's federation keys, kept in its data directory with mode 0600 (docs/federation.md):
 * - `federation-ed25519.pem`: the Ed25519 private key (PKCS#8) the node signs the object
 *   versions it originates with; its public key is what peers register for this node.
 * - `federation-secret.key`: 32 random bytes, the AES-256-GCM key that keeps peer credentials
 *   (the tokens other nodes issued to this one) encrypted at rest in the store.
 * Both are created on first use. Losing the secret makes the stored peer tokens unreadable
 * (re-add the peers); losing the signing key makes every peer refuse this node's new versions
 * until they register the new public key.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { canonicalize } from 'json-canonicalize';

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

const cache = new Map<string, NodeKeys>();

/** The keys of the node named `node`, from (or created in) `dataDir`. */
export function nodeKeys(dataDir: string, node: string): NodeKeys {
  const k = `${dataDir}\u0000${node}`;
  const hit = cache.get(k);
  if (hit) return hit;
  const pem = readOrCreate(path.join(dataDir, SIGNING_KEY_FILE), () => Buffer.from(
    crypto.generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string));
  const secret = readOrCreate(path.join(dataDir, SECRET_KEY_FILE), () => crypto.randomBytes(32));
  if (secret.length !== 32) throw new Error(`${SECRET_KEY_FILE} in ${dataDir} must hold 32 bytes`);
  const privateKey = crypto.createPrivateKey(pem);
  const keys = Object.freeze({ node, privateKey, publicKey: rawPublicKey(crypto.createPublicKey(privateKey)), secret });
  cache.set(k, keys);
  return keys;
}

function rawPublicKey(k: crypto.KeyObject): string {
  const jwk = k.export({ format: 'jwk' }) as { x?: string };
  return Buffer.from(jwk.x ?? '', 'base64url').toString('base64');
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
}

export function signedBytes(f: SignedFacts): Buffer {
  return Buffer.from(canonicalize({ object: f.object, origin: f.origin, creator: f.creator, recipients: [...f.recipients].sort() }), 'utf8');
}

export function signFacts(k: crypto.KeyObject, f: SignedFacts): string {
  return crypto.sign(null, signedBytes(f), k).toString('base64');
}

export function verifyFacts(k: crypto.KeyObject, f: SignedFacts, signature: string): boolean {
  try {
    return crypto.verify(null, signedBytes(f), k, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

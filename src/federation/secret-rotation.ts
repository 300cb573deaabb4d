/**
 * Rotating the node's secret (`federation-secret.key`, the AES-256-GCM key that seals the
 * credentials other servers issued to this node: peer tokens, TAXII feed tokens and passwords;
 * docs/federation.md "Rotating the secret"). After a copy of the data directory or a backup went
 * where it should not, the old secret must stop opening what the store keeps.
 *
 * Crash-safe in three steps: the new secret is written to a staged file named by its check value;
 * one transaction re-seals every credential and records the new check value (NODE_KEY_META); then
 * the secret file is replaced. A process that dies between the commit and the last step leaves
 * the staged file, and the next process to compare its keys with the store's record finds it and
 * finishes (FederationRegistry.signingKeys); a failed transaction removes it and changes nothing.
 */
import { AppError } from '../core/errors.js';
import { AccessService, type Actor } from '../access/index.js';
import { discardStagedSecret, promoteSecret, seal, SECRET_KEY_FILE, secretCheck, stageSecret, unseal } from './keys.js';
import { NODE_KEY_META, nodeIdentityId, P_PEER, type FederationRegistry, type PeerRecord } from './registry.js';
import { P_FEED, type TaxiiFeed } from './taxii-feeds.js';

export interface SecretRotation {
  /** Credentials re-sealed: peer tokens, TAXII feed credentials. */
  peers: number;
  feeds: number;
}

export async function rotateSecret(registry: FederationRegistry, actor: Actor): Promise<SecretRotation> {
  const { dataDir, nodeName, clock } = registry.deps;
  // This process holds the node's keys (else 503: it would re-seal with a secret the node does not use).
  const keys = await registry.signingKeys();
  const next = stageSecret(dataDir);
  let done: SecretRotation;
  try {
    done = await registry.store.transaction(async (tx) => {
      const record = JSON.parse((await tx.getMeta(NODE_KEY_META)) ?? '{}') as { secretCheck?: string };
      if (record.secretCheck !== secretCheck(keys.secret)) {
        throw new AppError('CONFLICT', 'the node\'s secret changed while this rotation began (another rotation, or another API machine): nothing was changed; try again');
      }
      const reseal = (what: string, sealed: string): string => {
        try {
          return seal(next.secret, unseal(keys.secret, sealed));
        } catch {
          throw new AppError('UNAVAILABLE', `the credential of ${what} cannot be decrypted with this node's ${SECRET_KEY_FILE}, so it cannot be `
            + 're-sealed: set it again (peer set-token, or remove and add the feed), then rotate; nothing was changed');
        }
      };
      let peers = 0;
      for (const m of await tx.listMeta(P_PEER)) {
        const p = JSON.parse(m.value) as PeerRecord;
        if (!p.token) continue;
        await tx.setMeta(m.key, JSON.stringify({ ...p, token: reseal(`peer ${p.name}`, p.token) }));
        peers++;
      }
      let feeds = 0;
      for (const m of await tx.listMeta(P_FEED)) {
        const f = JSON.parse(m.value) as TaxiiFeed;
        if (f.auth.kind === 'none') continue;
        await tx.setMeta(m.key, JSON.stringify({ ...f, auth: { ...f.auth, sealed: reseal(`TAXII feed ${f.name}`, f.auth.sealed) } }));
        feeds++;
      }
      await tx.setMeta(NODE_KEY_META, JSON.stringify({ ...record, publicKey: keys.publicKey, secretCheck: next.check }));
      // The counts only: never a credential, sealed or not.
      await new AccessService(tx, clock).audit(actor, 'federation.secret.rotate', nodeIdentityId(nodeName), { peers, feeds });
      return { peers, feeds };
    });
  } catch (e) {
    discardStagedSecret(dataDir, next.check);
    throw e;
  }
  promoteSecret(dataDir, next.secret);
  registry.forgetKeyCheck();
  return done;
}

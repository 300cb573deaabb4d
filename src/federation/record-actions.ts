/**
 * Writing back to a federated incident or request for assistance (docs/federation.md
 * "Answering from your own node"). A record another node pushed here is a copy; its
 * organisation's analysts answer it from their own node, and the answer is made on the node of
 * origin, where the record lives:
 *
 * - a comment on an incident shared with the organisation with a `contribute` share;
 * - an offer on a request for assistance routed to the organisation, and withdrawing that offer.
 *
 * Node B (the copy's node) checks the user's permission as for a local record, signs the action
 * (Ed25519 over the RFC 8785 form of {object: action, origin: B, creator: org, recipients: []},
 * as records and object versions are signed) and POSTs it with its peer token to the origin A
 * (`POST /api/v1/federation/records/actions`). A accepts it only from a registered peer, with a
 * valid signature of that peer, for an organisation registered on A as living on that peer, on a
 * record originated on A that A pushes to that peer and that names the organisation — exactly
 * what that organisation may do through A's REST, checked again by A's own services with A's
 * rules (shares, routing, states, deadlines). A applies it as that organisation (audited with the
 * peer and the user's name) and answers with the record's fresh signed copy, which B verifies and
 * stores as it would a push: the user sees the answer at once. An action is named by a nonce, so
 * a retried POST (a lost answer) is applied once.
 *
 * B's word is trusted for who its users are and what roles they hold (A has no users of B's
 * organisations); A's word decides what the organisation may do to A's record.
 */
import crypto from 'node:crypto';
import { AppError, ERROR_TABLE, type ErrorCode } from '../core/errors.js';
import { mayRelease, type Principal } from '../access/index.js';
import { AccessService } from '../access/index.js';
import type { RecordRow, Role } from '../store/index.js';
import { ROLES } from '../store/index.js';
import { CSIRT_SERVICES, INCIDENT, OFFER, REQUEST, type AuthedActor, type CsirtService, type RecordRemote, type RemoteAction, type Respond } from '../respond/index.js';
import { TaxiiClientError } from '../taxii/client.js';
import { parsePublicKey, signFacts, verifyFacts } from './keys.js';
import { envelopeFor, P_RELAYED, P_VIA, receiveFrom } from './records.js';
import type { PeerRecord } from './registry.js';
import { clientFor, peerAudience, type SyncDeps } from './sync.js';

/** The action as it travels and is signed. */
interface ActionBody {
  recordId: string;
  orgId: string;
  user: string | null;
  roles: Role[];
  nonce: string;
  atUs: number;
  action: RemoteAction;
}

const P_DONE = 'federation.act.';
const MAX_TEXT = 20_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const facts = (body: ActionBody, origin: string) => ({ object: body as unknown as Record<string, unknown>, origin, creator: body.orgId, recipients: [] as string[] });

/** Node B: sends the action to the record's node of origin and stores the copy it answers with. */
export function recordRemote(deps: SyncDeps): RecordRemote {
  return {
    async act(actor, row, action) {
      const { registry, clock, store } = deps;
      const peer = await routeTo(deps, row.originNode ?? '', await store.getMeta(P_VIA + row.id));
      if (!peer) {
        throw new AppError('CONFLICT', `${row.id} lives on node ${row.originNode ?? '?'}, which this node cannot reach (no URL or token registered for it, nor for the node that relayed it): answer it there`);
      }
      const body: ActionBody = {
        recordId: row.id, orgId: actor.principal.orgId, user: actor.principal.username, roles: [...actor.principal.roles],
        nonce: crypto.randomUUID(), atUs: clock.now() * 1000, action,
      };
      const me = registry.deps.nodeName;
      const signature = signFacts((await registry.signingKeys()).privateKey, facts(body, me));
      const client = clientFor(registry, peer);
      let answer: { records?: unknown[] };
      try {
        answer = (await client.request('POST', '/api/v1/federation/records/actions', { node: me, body, signature })) as unknown as { records?: unknown[] };
      } catch (e) {
        throw fromPeer(peer, e);
      } finally {
        await client.close();
      }
      // The fresh copy, verified and stored as a push would be (a later push finds it unchanged).
      const stored = await receiveFrom(deps, peer, Array.isArray(answer.records) ? answer.records : []);
      const refused = stored.results.find((r) => r.status === 'rejected');
      if (refused) throw new AppError('UNAVAILABLE', `node ${peer.name} took the ${action.type}, but its copy of ${row.id} was refused here: ${refused.message ?? ''}; the next push brings it`);
      await new AccessService(deps.store, clock).audit(actor, 'federation.records.act', row.id, { peer: peer.name, action: action.type, nonce: body.nonce });
    },
  };
}

/**
 * The peer an action on a record of node `origin` goes to: the origin itself when this node
 * reaches it, else the peer the record came through (`via`: a hub that relayed it).
 */
async function routeTo(deps: SyncDeps, origin: string, via: string | null): Promise<PeerRecord | null> {
  const peers = await deps.registry.listPeers();
  const reachable = (name: string | null) => peers.find((x) => x.name === name && x.url !== null && x.token !== null) ?? null;
  return reachable(origin) ?? reachable(via);
}

/** The origin's refusal, as the same error on this node (its text was written for the acting organisation). */
function fromPeer(peer: PeerRecord, e: unknown): AppError {
  if (e instanceof TaxiiClientError && e.status !== null && e.status < 500) {
    const code = e.taxii && typeof (e.taxii as { error_code?: unknown }).error_code === 'string' ? (e.taxii as { error_code: string }).error_code : '';
    const known = (Object.keys(ERROR_TABLE) as ErrorCode[]).find((c) => c === code);
    const text = e.taxii?.description ?? e.message;
    return new AppError(known ?? (e.status === 404 ? 'NOT_FOUND' : e.status === 403 ? 'FORBIDDEN' : 'CONFLICT'), `node ${peer.name}: ${text}`.slice(0, 1000));
  }
  return new AppError('UNAVAILABLE', `node ${peer.name} could not be reached: ${e instanceof Error ? e.message : String(e)}`.slice(0, 500));
}

function parseAction(v: unknown): RemoteAction | null {
  if (typeof v !== 'object' || v === null) return null;
  const a = v as Record<string, unknown>;
  if (a.type === 'incident.comment') return typeof a.text === 'string' && a.text.trim() !== '' && a.text.length <= MAX_TEXT ? { type: a.type, text: a.text } : null;
  if (a.type === 'assistance.offer.withdraw') return typeof a.offerId === 'string' && a.offerId.length <= 200 ? { type: a.type, offerId: a.offerId } : null;
  if (a.type === 'assistance.offer') {
    const o = a.offer as Record<string, unknown> | null;
    if (typeof o !== 'object' || o === null) return null;
    const str = (x: unknown, max: number) => typeof x === 'string' && x.length <= max;
    if (!str(o.team, 200) || !str(o.capacity, 2000) || !str(o.availableFrom, 40) || !str(o.availableUntil, 40) || (o.note !== undefined && !str(o.note, MAX_TEXT))) return null;
    if (!Array.isArray(o.services) || o.services.length > 50 || !o.services.every((x) => (CSIRT_SERVICES as readonly unknown[]).includes(x))) return null;
    return {
      type: a.type,
      offer: { team: o.team as string, services: o.services as CsirtService[], capacity: o.capacity as string, availableFrom: o.availableFrom as string, availableUntil: o.availableUntil as string, ...(o.note !== undefined ? { note: o.note as string } : {}) },
    };
  }
  return null;
}

function parseBody(v: unknown): ActionBody | null {
  if (typeof v !== 'object' || v === null) return null;
  const b = v as Record<string, unknown>;
  const action = parseAction(b.action);
  if (!action || typeof b.recordId !== 'string' || b.recordId.length > 200 || typeof b.orgId !== 'string' || b.orgId.length > 200) return null;
  if (!(b.user === null || (typeof b.user === 'string' && b.user.length <= 200)) || typeof b.nonce !== 'string' || !UUID.test(b.nonce) || !Number.isSafeInteger(b.atUs)) return null;
  if (!Array.isArray(b.roles) || !b.roles.every((r) => (ROLES as readonly unknown[]).includes(r))) return null;
  return { recordId: b.recordId, orgId: b.orgId, user: b.user as string | null, roles: b.roles as Role[], nonce: b.nonce, atUs: b.atUs as number, action };
}

/**
 * Node A: a peer's action on a record originated here, for one of that peer's organisations.
 * Answers with the record's fresh copy for that peer (signed), or the error A's services give.
 */
export async function receiveAction(deps: SyncDeps & { respond: Respond }, p: Principal, raw: { node?: unknown; body?: unknown; signature?: unknown; hops?: unknown }): Promise<{ applied: boolean; records: unknown[] }> {
  const { registry, store, clock, respond } = deps;
  const peers = await registry.listPeers();
  const peer = p.kind === 'peer' ? peers.find((x) => x.identity === p.orgId) : undefined;
  if (!peer) throw new AppError('FORBIDDEN', 'only a registered peer node writes back to a record');
  const body = parseBody(raw.body);
  if (!body) throw new AppError('BAD_REQUEST', 'malformed action: {recordId, orgId, user, roles, nonce, atUs, action: {type: incident.comment | assistance.offer | assistance.offer.withdraw, …}}');
  // Signed by the node of the acting organisation: the sender, or a node whose action the sender relays.
  const signerName = typeof raw.node === 'string' && raw.node !== '' ? raw.node : peer.name;
  const signer = signerName === peer.name ? peer : peers.find((x) => x.name === signerName);
  if (!signer) throw new AppError('FORBIDDEN', `node ${signerName.slice(0, 64)} is not registered here: its signature cannot be checked`);
  const key = parsePublicKey(signer.publicKey);
  if (!key || typeof raw.signature !== 'string' || !verifyFacts(key, facts(body, signer.name), raw.signature)) {
    throw new AppError('FORBIDDEN', `the signature of node ${signer.name} does not verify: the action was changed after it left that node`);
  }
  const org = await store.getOrganisation(body.orgId);
  // The organisation lives on the signing node, or is reached through the sender (a hub).
  if (!org || (org.node !== signer.name && org.node !== peer.name)) throw new AppError('FORBIDDEN', `organisation ${body.orgId.slice(0, 80)} is not registered here as living on node ${signer.name}`);
  const row = await store.getRecord(body.recordId);
  if (row && row.originNode !== null) return relayAction(deps, { peer, signer, body, raw, row });
  if (!row) {
    const relayed = await store.getMeta(P_RELAYED + body.recordId);
    if (relayed) return relayAction(deps, { peer, signer, body, raw, row: null });
  }
  // Only a record this node pushes to that peer for that organisation: what it may read of it here.
  const audience = await peerAudience(store, peer, { records: true });
  const facts0 = row ? { tlp: row.tlp, creatorOrg: row.creatorOrg, recipients: row.recipients, originNode: row.originNode } : null;
  if (!row || !facts0 || (row.kind !== INCIDENT && row.kind !== REQUEST) || row.originNode !== null || row.exerciseId !== null
    || !row.recipients.includes(org.id) || !mayRelease(facts0, audience, 'read')) {
    throw new AppError('NOT_FOUND', `no record ${body.recordId.slice(0, 80)} shared with ${org.id}`);
  }
  const doneKey = `${P_DONE}${peer.name}.${body.nonce}`;
  let applied = false;
  if ((await store.getMeta(doneKey)) === null) {
    const principal: Principal = Object.freeze({
      orgId: org.id, userId: null, username: `${body.user ?? 'unknown'}@${peer.name}`.slice(0, 200), roles: Object.freeze([...body.roles]), tokenId: p.tokenId,
      kind: 'api', groupIds: Object.freeze(await store.groupsOfOrg(org.id)),
    });
    const actor: AuthedActor = { principal, source: `peer:${peer.name}` };
    const a = body.action;
    if (a.type === 'incident.comment') {
      if (row.kind !== INCIDENT) throw new AppError('BAD_REQUEST', `${row.id} is not an incident`);
      await respond.incidents.comment(actor, row.id, a.text);
    } else if (a.type === 'assistance.offer') {
      if (row.kind !== REQUEST) throw new AppError('BAD_REQUEST', `${row.id} is not a request for assistance`);
      await respond.assistance.offer(actor, row.id, a.offer);
    } else {
      const offer = await store.getRecord(a.offerId);
      if (!offer || offer.kind !== OFFER || offer.parentId !== row.id || offer.creatorOrg !== org.id) throw new AppError('NOT_FOUND', `no offer ${a.offerId.slice(0, 80)} of ${org.id} on ${row.id}`);
      await respond.assistance.withdrawOffer(actor, offer.id);
    }
    await store.setMeta(doneKey, String(clock.now()));
    applied = true;
  }
  const fresh = await store.getRecord(row.id);
  return { applied, records: fresh ? [await envelopeFor(deps, peer, fresh)] : [] };
}

/**
 * A relay (a hub) passes an action on toward the record's node of origin, unchanged (still signed
 * by the acting organisation's node), when it relayed that record to the sender; the answer (the
 * origin's signed copy) comes back unchanged.
 */
async function relayAction(deps: SyncDeps, a: { peer: PeerRecord; signer: PeerRecord; body: ActionBody; raw: { signature?: unknown; hops?: unknown }; row: RecordRow | null }): Promise<{ applied: boolean; records: unknown[] }> {
  const { store, registry } = deps;
  const id = a.body.recordId;
  const hops = Number.isSafeInteger(a.raw.hops) ? (a.raw.hops as number) : 0;
  const relayed = JSON.parse((await store.getMeta(P_RELAYED + id)) ?? 'null') as { peers: string[]; from: string } | null;
  // Only for a record this node relayed to the sender (or holds as a copy it may pass answers on for).
  if (!relayed || !relayed.peers.includes(a.peer.name) || hops >= 4) throw new AppError('NOT_FOUND', `no record ${id.slice(0, 80)} shared with ${a.body.orgId.slice(0, 80)}`);
  const origin = a.row?.originNode ?? relayed.from;
  const target = await routeTo(deps, origin, relayed.from);
  if (!target || target.name === a.peer.name) throw new AppError('UNAVAILABLE', `${id} lives on node ${origin}, which this node cannot reach`);
  const client = clientFor(registry, target);
  try {
    const answer = (await client.request('POST', '/api/v1/federation/records/actions', { node: a.signer.name, body: a.body, signature: a.raw.signature, hops: hops + 1 })) as unknown as { applied?: boolean; records?: unknown[] };
    await new AccessService(store, deps.clock).audit({ principal: null, source: `peer:${a.peer.name}` }, 'federation.records.relay-action', id, { from: a.peer.name, to: target.name, action: a.body.action.type, nonce: a.body.nonce });
    return { applied: answer.applied === true, records: Array.isArray(answer.records) ? answer.records : [] };
  } catch (e) {
    throw fromPeer(target, e);
  } finally {
    await client.close();
  }
}

/**
 * Two nodes joined as docs/federation.md's steps join them (each registers the other with its
 * key, URL and organisation; the peer identity gets a grant; each keeps the token the other
 * issued): `a` lets `b` read `readable`, `b` lets `a` read and write `writable`.
 */
import { SYSTEM_ACTOR } from '../../src/access/index.js';
import type { Platform, RunningServer } from '../../src/api/index.js';
import { nodeIdentityId } from '../../src/federation/index.js';

export interface NodeSide {
  p: Platform;
  server: RunningServer;
  name: string;
  org: { id: string; shortName: string };
}

export async function joinNodes(a: NodeSide, b: NodeSide, o: { readable: string; writable: string }): Promise<void> {
  await a.p.federation.addPeer(SYSTEM_ACTOR, { name: b.name, publicKey: b.p.federation.keys().publicKey, orgs: [b.org] });
  await b.p.federation.addPeer(SYSTEM_ACTOR, { name: a.name, publicKey: a.p.federation.keys().publicKey, orgs: [a.org] });
  await a.p.access.grantCollection(SYSTEM_ACTOR, o.readable, nodeIdentityId(b.name), { canRead: true, canWrite: false });
  await b.p.access.grantCollection(SYSTEM_ACTOR, o.writable, nodeIdentityId(a.name), { canRead: true, canWrite: true });
  const tokenForB = (await a.p.access.createToken(SYSTEM_ACTOR, { orgId: nodeIdentityId(b.name), kind: 'peer', name: `node ${b.name}` })).token;
  const tokenForA = (await b.p.access.createToken(SYSTEM_ACTOR, { orgId: nodeIdentityId(a.name), kind: 'peer', name: `node ${a.name}` })).token;
  await b.p.federation.updatePeer(SYSTEM_ACTOR, a.name, { url: a.server.url, token: tokenForB });
  await a.p.federation.updatePeer(SYSTEM_ACTOR, b.name, { url: b.server.url, token: tokenForA });
}

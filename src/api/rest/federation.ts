/**
 * Federation over REST (docs/federation.md): peers and subscriptions (admins manage, every
 * reader sees the status), and the provenance envelopes a peer node fetches beside TAXII.
 */
import type { FastifyInstance, FastifyRequest, FastifySchema } from 'fastify';
import { AppError } from '../../core/errors.js';
import { TaxiiFeeds, type NewTaxiiFeed, type TaxiiFeedView, applyRetractions, envelopesFor, MAX_ENVELOPES, MAX_RECORDS_PER_PUSH, MAX_RETRACTIONS, retractionsFor, pushRecords, receiveAction, receiveRecords, recordPushStatus, retryRejects, rotateSecret, runSubscription, statusOf, type SyncDeps } from '../../federation/index.js';
import { AccessService, can } from '../../access/index.js';
import { IntelService } from '../../intel/index.js';
import { principalOf } from './auth.js';
import { collectionFor, type RestDeps } from './context.js';

const str = { type: 'string' } as const;
/** Organisations on a peer (`relayed`: of another node, reached through it). */
const PEER_ORGS = {
  type: 'array', maxItems: 500,
  items: {
    type: 'object', required: ['id', 'shortName'], additionalProperties: false,
    properties: { id: { type: 'string', maxLength: 100 }, shortName: { type: 'string', maxLength: 16 }, name: { type: 'string', maxLength: 200 }, relayed: { type: 'boolean' } },
  },
} as const;
/** `summary` is read by the OpenAPI builder (openapi-build.ts). */
const doc = (summary: string) => ({ schema: { summary } as FastifySchema });

function param(req: FastifyRequest, name: string): string {
  return (req.params as Record<string, string>)[name] ?? '';
}

export async function federationRoutes(app: FastifyInstance, deps: RestDeps): Promise<void> {
  const { platform } = deps;
  const registry = platform.federation;
  const sync: SyncDeps = { store: platform.store, clock: platform.clock, registry, intel: platform.intel };
  const actor = (req: FastifyRequest) => ({ principal: principalOf(req), source: req.ip });

  app.post('/federation/envelopes', {
    schema: <FastifySchema>{
      summary: 'Provenance envelopes (origin, path, release facts, origin signature) of object versions a peer may read',
      body: {
        type: 'object', required: ['collection', 'objects'], additionalProperties: false,
        properties: {
          collection: { type: 'string', maxLength: 100 },
          objects: { type: 'array', maxItems: MAX_ENVELOPES, items: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', maxLength: 200 }, version: { type: ['string', 'null'], maxLength: 40 } } } },
        },
      },
    },
  }, async (req) => {
    const p = principalOf(req);
    const body = req.body as { collection: string; objects: { id: string; version?: string | null }[] };
    const c = await collectionFor(deps, p, body.collection, 'read');
    const envelopes = await envelopesFor({
      store: platform.store, registry, audience: platform.access.audienceOf(p), collectionId: c.id,
      items: body.objects.map((o) => ({ id: o.id, version: o.version ?? null })),
    });
    return { node: platform.config.nodeName, envelopes };
  });

  app.get('/federation/retractions', {
    schema: <FastifySchema>{
      summary: 'Versions of a collection deleted on their node of origin (signed by it), oldest first after a cursor: what a peer may read of them',
      querystring: {
        type: 'object', required: ['collection'], additionalProperties: false,
        properties: { collection: { type: 'string', maxLength: 100 }, after: { type: 'string', maxLength: 2000 }, limit: { type: 'integer', minimum: 1, maximum: MAX_RETRACTIONS } },
      },
    },
  }, async (req) => {
    const p = principalOf(req);
    const q = req.query as { collection: string; after?: string; limit?: number };
    const c = await collectionFor(deps, p, q.collection, 'read');
    // The requesting node's own retractions are not told back to it.
    const peerNode = p.kind === 'peer' ? (await platform.store.getOrganisation(p.orgId))?.node ?? undefined : undefined;
    const page = await retractionsFor({
      store: platform.store, registry, audience: platform.access.audienceOf(p), collectionId: c.id, after: q.after, limit: q.limit ?? MAX_RETRACTIONS, excludeOrigin: peerNode,
    });
    return { node: platform.config.nodeName, ...page };
  });

  app.post('/federation/retractions', {
    schema: <FastifySchema>{
      summary: 'A peer node pushes retractions of versions it pushed into a collection here (signed by their node of origin); copies from that origin with that content are deleted',
      body: {
        type: 'object', required: ['collection', 'retractions'], additionalProperties: false,
        properties: { collection: { type: 'string', maxLength: 100 }, retractions: { type: 'array', maxItems: MAX_RETRACTIONS, items: { type: 'object' } } },
      },
    },
  }, async (req) => {
    const p = principalOf(req);
    const body = req.body as { collection: string; retractions: unknown[] };
    const c = await collectionFor(deps, p, body.collection, 'write');
    const peer = (await registry.listPeers()).find((x) => x.identity === p.orgId);
    if (!peer) throw new AppError('FORBIDDEN', 'the pushing node is not a registered peer of this node');
    const out = await platform.store.transaction(async (tx) => {
      const res = await applyRetractions(tx, { registry, intel: new IntelService(tx, platform.clock), peer, collectionId: c.id, items: body.retractions });
      await new AccessService(tx, platform.clock).audit({ principal: p, source: `peer:${peer.name}` }, 'federation.retract', c.id, {
        peer: peer.name, received: body.retractions.length, deleted: res.deleted, refused: res.refused.length,
      });
      return res;
    });
    platform.intel.announce({ collectionId: c.id, count: out.deleted, types: out.types });
    return { node: platform.config.nodeName, deleted: out.deleted, absent: out.absent, refused: out.refused.map((r) => ({ id: r.id, version: r.version, message: r.message })) };
  });

  app.post('/federation/records', {
    schema: <FastifySchema>{
      summary: 'A peer node pushes the incidents and assistance requests it shared with organisations of this node (signed; read-only copies here)',
      body: {
        type: 'object', required: ['records'], additionalProperties: false,
        properties: { node: { type: 'string', maxLength: 63 }, records: { type: 'array', maxItems: MAX_RECORDS_PER_PUSH, items: { type: 'object' } } },
      },
    },
  }, async (req) => receiveRecords(sync, principalOf(req), req.body as { records: unknown[] }));

  app.post('/federation/records/actions', {
    schema: <FastifySchema>{
      summary: 'A peer node writes back to an incident or request for assistance this node shared with one of its organisations (a comment, an offer, an offer withdrawn; signed); answers with the record\'s fresh signed copy',
      body: {
        type: 'object', required: ['body', 'signature'], additionalProperties: false,
        properties: { node: { type: 'string', maxLength: 63 }, body: { type: 'object' }, signature: { type: 'string', maxLength: 400 }, hops: { type: 'integer', minimum: 0, maximum: 8 } },
      },
    },
  }, async (req) => receiveAction({ ...sync, respond: platform.respond }, principalOf(req), req.body as { node?: unknown; body: unknown; signature: unknown; hops?: unknown }));

  app.post('/federation/peers/:name/push-records', doc('Push now the incidents and assistance requests shared with organisations of this peer'), async (req) => {
    const peer = await registry.peer(param(req, 'name'));
    if (!peer.url) throw new AppError('BAD_REQUEST', `peer ${peer.name} has no URL (known by its key only)`);
    try {
      return await pushRecords(sync, peer.name);
    } catch (e) {
      if (e instanceof AppError) throw e;
      throw new AppError('UNAVAILABLE', `peer ${peer.name}: ${(e as Error).message}`);
    }
  });

  app.get('/federation/node', doc('This node: its name, the Ed25519 public key peers register for it and its public address (null when SHIELDWALL_PUBLIC_URL is not set)'), async () => {
    const k = await registry.signingKeys();
    return { node: platform.config.nodeName, publicKey: k.publicKey, url: platform.config.publicUrl ?? null };
  });

  app.post('/federation/node/rotate-key', {
    schema: <FastifySchema>{
      summary: 'Replace this node\'s Ed25519 signing key: peers must then register the new public key (peer update --public-key); until they do they refuse what it signs (kept in their reject lists)',
      body: { type: 'object', required: ['confirm'], additionalProperties: false, properties: { confirm: { const: true } } },
    },
  }, async (req) => {
    const r = await registry.rotateKey(actor(req));
    return { node: platform.config.nodeName, previousPublicKey: r.previous, publicKey: r.publicKey };
  });

  app.post('/federation/node/rotate-secret', {
    schema: <FastifySchema>{
      summary: 'Replace this node\'s federation secret (federation-secret.key) and re-encrypt every peer token and TAXII feed credential with it; the old secret then opens nothing',
      body: { type: 'object', required: ['confirm'], additionalProperties: false, properties: { confirm: { const: true } } },
    },
  }, async (req) => ({ node: platform.config.nodeName, ...(await rotateSecret(registry, actor(req))) }));

  app.get('/federation/peers', doc('Peer nodes, the organisations on them, key and whether a token is kept; for federation administrators, the push status of shared records'), async (req) => {
    const peers = await registry.listPeers();
    // The record push status names the records every organisation here shared with the peer (a
    // refusal quotes the record's id) and counts them: the administrators' (federation.admin),
    // as the reject lists are.
    const admin = can(principalOf(req), 'federation.admin');
    return { items: await Promise.all(peers.map(async (x) => ({ ...(await registry.view(x)), ...(admin ? { records: await recordPushStatus(registry, x.name) } : {}) }))) };
  });

  app.get('/federation/peers/:name', doc('One peer node'), async (req) => registry.view(await registry.peer(param(req, 'name'))));

  app.post('/federation/peers', {
    schema: <FastifySchema>{
      summary: 'Register a peer node (its token is kept encrypted at rest)',
      body: {
        type: 'object', required: ['name', 'publicKey'], additionalProperties: false,
        properties: {
          name: { type: 'string', maxLength: 63 }, url: { type: ['string', 'null'], maxLength: 500 }, apiRoot: { type: 'string', maxLength: 100 },
          publicKey: { type: 'string', maxLength: 100 }, token: { type: ['string', 'null'], maxLength: 500 }, ca: { type: ['string', 'null'], maxLength: 20_000 },
          orgs: PEER_ORGS,
        },
      },
    },
  }, async (req) => {
    const rec = await registry.addPeer(actor(req), req.body as Parameters<typeof registry.addPeer>[1]);
    return registry.view(rec);
  });

  app.patch('/federation/peers/:name', {
    schema: <FastifySchema>{
      summary: 'Change a peer in place (its subscriptions stay): address, API root, rotated public key (the old one kept for what it signed unless `dropRetiredKeys`), TLS CA, token (null clears), organisations added (`orgs`) or detached (`removeOrgs`, ids or short names)',
      body: {
        type: 'object', additionalProperties: false, minProperties: 1,
        properties: {
          url: { type: ['string', 'null'], maxLength: 500 }, apiRoot: { type: 'string', maxLength: 100 }, publicKey: { type: 'string', maxLength: 100 },
          token: { type: ['string', 'null'], maxLength: 500 }, ca: { type: ['string', 'null'], maxLength: 20_000 },
          orgs: PEER_ORGS, removeOrgs: { type: 'array', maxItems: 500, items: { type: 'string', maxLength: 100 } },
          dropRetiredKeys: { type: 'boolean' },
        },
      },
    },
  }, async (req) => {
    const rec = await registry.updatePeer(actor(req), param(req, 'name'), req.body as Parameters<typeof registry.updatePeer>[2]);
    return registry.view(rec);
  });

  app.delete('/federation/peers/:name', doc('Remove a peer (its subscriptions first)'), async (req) => {
    await registry.removePeer(actor(req), param(req, 'name'));
    return { removed: param(req, 'name') };
  });

  app.get('/federation/subscriptions', doc('Subscriptions with their status: lag, last success, last error, objects in/out, rejects'), async () => {
    const subs = await registry.listSubscriptions();
    return { items: await Promise.all(subs.map((s) => statusOf(sync, s))) };
  });

  app.post('/federation/subscriptions', {
    schema: <FastifySchema>{
      summary: 'Subscribe: pull a peer collection into a local one, or push a local collection to a peer collection; `types`: only objects of these STIX types (asked of the peer with match[type]); `since`: only what was added from that time on (RFC 3339 time or date)',
      body: {
        type: 'object', required: ['peer', 'direction', 'remoteCollection', 'localCollection'], additionalProperties: false,
        properties: {
          peer: str, direction: { type: 'string', enum: ['pull', 'push'] }, remoteCollection: str, localCollection: str,
          intervalS: { type: 'integer', minimum: 1, maximum: 86_400 }, sightingsOnly: { type: 'boolean' },
          types: { type: 'array', maxItems: 50, items: { type: 'string', maxLength: 250 } },
          since: { type: 'string', maxLength: 40 },
        },
      },
    },
  }, async (req) => {
    const sub = await registry.addSubscription(actor(req), req.body as Parameters<typeof registry.addSubscription>[1]);
    return statusOf(sync, sub);
  });

  app.get('/federation/subscriptions/:id', doc('One subscription and its status'), async (req) => statusOf(sync, await registry.subscription(param(req, 'id'))));

  app.delete('/federation/subscriptions/:id', doc('Remove a subscription (its cursor and reject list)'), async (req) => {
    await registry.removeSubscription(actor(req), param(req, 'id'));
    return { removed: param(req, 'id') };
  });

  app.post('/federation/subscriptions/:id/run', doc('Run a subscription now'), async (req) => {
    const sub = await registry.subscription(param(req, 'id'));
    try {
      return await runSubscription(sync, sub);
    } catch (e) {
      if (e instanceof AppError) throw e;
      throw new AppError('UNAVAILABLE', `peer ${sub.peer}: ${(e as Error).message}`);
    }
  });

  app.post('/federation/subscriptions/:id/reset', doc('Re-walk the collection from the start on the next run (duplicates are no-ops)'), async (req) => {
    await registry.reset(actor(req), param(req, 'id'));
    return statusOf(sync, await registry.subscription(param(req, 'id')));
  });

  app.get('/federation/subscriptions/:id/rejects', doc('The reject list of a subscription: object, version, reason'), async (req) => {
    const sub = await registry.subscription(param(req, 'id'));
    const items = (await registry.listRejects(sub.id, 500)).map((r) => ({ id: r.id, version: r.version, reason: r.reason, at: new Date(r.atUs / 1000).toISOString() }));
    return { items };
  });

  app.delete('/federation/subscriptions/:id/rejects', doc('Clear the reject list of a subscription (a pull waiting on a full list goes on)'), async (req) => {
    return { cleared: await registry.clearRejects(actor(req), param(req, 'id')) };
  });

  app.post('/federation/subscriptions/:id/retry', doc('Retry the rejected objects (after registering a key or an organisation)'), async (req) => {
    const sub = await registry.subscription(param(req, 'id'));
    return retryRejects(sync, sub);
  });

  // TAXII feeds (docs/federation.md "TAXII feeds"): every reader sees their state; the refusals
  // (object ids and reasons) and every change are for federation admins of the importing organisation.
  const feeds = new TaxiiFeeds({ store: platform.store, clock: platform.clock, registry, intel: platform.intel });
  const feedParam = (req: FastifyRequest) => param(req, 'name');
  const publicView = (v: TaxiiFeedView) => ({ ...v, state: { ...v.state, failures: undefined } });

  app.get('/taxii-feeds', doc('TAXII feeds (collections of third-party TAXII 2.1 servers pulled on a schedule) and their state'), async () => ({ items: (await feeds.list()).map(publicView) }));

  app.post('/taxii-feeds', {
    schema: <FastifySchema>{
      summary: 'Add a TAXII feed (credentials kept encrypted at rest, never returned)',
      body: {
        type: 'object', required: ['name', 'url', 'remoteCollection', 'localCollection', 'org'], additionalProperties: false,
        properties: {
          name: { type: 'string', maxLength: 63 }, url: { type: 'string', maxLength: 500 }, apiRoot: { type: 'string', maxLength: 800 },
          remoteCollection: { type: 'string', maxLength: 200 }, localCollection: { type: 'string', maxLength: 200 }, org: { type: 'string', maxLength: 100 },
          tlp: { type: ['string', 'null'], enum: ['clear', 'green', 'amber', 'amber+strict', 'red', null] }, intervalS: { type: 'integer', minimum: 0, maximum: 2_592_000 },
          ca: { type: ['string', 'null'], maxLength: 20_000 },
          // One flat shape (the service checks which fields a kind needs): a oneOf would let the
          // validator strip `token` while trying the branch without it.
          auth: {
            type: 'object', required: ['kind'], additionalProperties: false,
            properties: { kind: { enum: ['none', 'bearer', 'basic'] }, token: { type: 'string', maxLength: 2000 }, username: { type: 'string', maxLength: 200 }, password: { type: 'string', maxLength: 2000 } },
          },
        },
      },
    },
  }, async (req) => publicView(await feeds.add(actor(req), req.body as NewTaxiiFeed)));

  app.get('/taxii-feeds/:name/failures', doc('The latest objects a TAXII feed\'s pulls refused, with the reasons'), async (req) => {
    await feeds.managed(actor(req), feedParam(req));
    const st = await feeds.state(feedParam(req));
    return { items: st.failures.map((f) => ({ id: f.id, reason: f.reason, at: new Date(f.atUs / 1000).toISOString() })) };
  });

  app.post('/taxii-feeds/:name/pull', doc('Pull a TAXII feed now (at most 60 s; the rest at the next tick)'), async (req) => feeds.pull(feedParam(req), { requestedBy: actor(req) }));

  app.post('/taxii-feeds/:name/reset', doc('The next pull of a TAXII feed walks its collection from the start'), async (req) => {
    await feeds.reset(actor(req), feedParam(req));
    return { reset: feedParam(req) };
  });

  app.delete('/taxii-feeds/:name', doc('Remove a TAXII feed (what it imported stays)'), async (req) => {
    await feeds.remove(actor(req), feedParam(req));
    return { removed: feedParam(req) };
  });
}

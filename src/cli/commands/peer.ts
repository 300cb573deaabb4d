/**
 * `shieldwall peer …` and `shieldwall sync …`: peers, their organisations and keys, and the
 * subscriptions that keep collections in sync (docs/federation.md).
 */
import type { Command } from 'commander';
import { AppError } from '../../core/errors.js';
import {
  FederationRegistry, nodeIdentityId, recordPushStatus, retryRejects, rotateSecret, runSubscription, SECRET_KEY_FILE, statusOf, type PeerOrgInput, type SyncDeps,
} from '../../federation/index.js';
import { CLI_ACTOR, EXIT, ExitRequest, stdio, withPlatform, type CliPlatform, type Io } from '../context.js';
import { readInputText } from '../input-file.js';
import { readSecret } from '../secret.js';
import { printRows } from '../table.js';

const registryOf = (p: CliPlatform) => new FederationRegistry({ store: p.store, clock: p.clock, dataDir: p.config.dataDir, nodeName: p.config.nodeName, peerMaxResponseBytes: p.config.peerMaxResponseBytes });
const syncOf = (p: CliPlatform): SyncDeps => ({ store: p.store, clock: p.clock, registry: registryOf(p), intel: p.intel });
const collect = (v: string, prev: string[]) => [...prev, v];
/** A word a POSIX shell reads back as `s`: as is when it is plain, else in single quotes. */
const shellQuote = (s: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export function readCa(file: string): string {
  return readInputText(file, `--ca ${file}`);
}

/** `--org identity--…:SHORT[:Name]` (`relayed`: given with --relayed-org). */
function parseOrg(raw: string, relayed = false): PeerOrgInput {
  const [id, shortName, ...rest] = raw.split(':');
  if (!id || !shortName) throw new AppError('BAD_REQUEST', `--${relayed ? 'relayed-' : ''}org takes identity--<uuid>:SHORT[:Name], got ${raw.slice(0, 80)}`);
  return { id, shortName, ...(rest.length ? { name: rest.join(':') } : {}), ...(relayed ? { relayed } : {}) };
}

const orgsOf = (o: { org: string[]; relayedOrg: string[] }) => [...o.org.map((x) => parseOrg(x)), ...o.relayedOrg.map((x) => parseOrg(x, true))];
const ORG_HELP = 'an organisation living on the peer, identity--<uuid>:SHORT[:Name]; repeatable';
const RELAYED_ORG_HELP = 'an organisation of another node reached through the peer (a hub relays for it: AMBER reaches it, AMBER+STRICT and RED never leave their origin for it); repeatable';
const NO_TOKEN = 'no peer token on stdin: pipe the token the peer issued to this node (shieldwall token create --kind peer on the peer), e.g. peer set-token <name> < token.txt';

export function registerPeer(program: Command, io: Io = stdio): void {
  const peer = program.command('peer').description('federated peer nodes: URL, organisations, public key, credentials (encrypted at rest)');
  peer.command('whoami')
    .description('this node\'s name, the Ed25519 public key its peers register and its public address (SHIELDWALL_PUBLIC_URL)')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => withPlatform(async (p) => {
      const k = await registryOf(p).signingKeys();
      const url = p.config.publicUrl ?? null;
      // The organisations that live here (what a peer registers with --org), and those this node
      // reaches through its peers (on a hub: what a spoke registers with --relayed-org, less its own).
      const all = await p.store.listOrganisations();
      const view = (x: (typeof all)[number]) => ({ id: x.id, shortName: x.shortName, name: x.name });
      const orgs = all.filter((x) => x.node === null).map(view);
      const remote = all.filter((x) => x.node !== null && x.id !== nodeIdentityId(x.node)).map((x) => ({ ...view(x), node: x.node }));
      if (o.json) io.out(JSON.stringify({ node: p.config.nodeName, publicKey: k.publicKey, identity: nodeIdentityId(p.config.nodeName), url, orgs, remoteOrgs: remote }));
      else {
        io.out(`node ${p.config.nodeName}\npublic key ${k.publicKey}\nurl ${url ?? '(SHIELDWALL_PUBLIC_URL is not set: give the peer this node\'s address yourself)'}`);
        const arg = (x: { id: string; shortName: string; name: string }) => shellQuote(`${x.id}:${x.shortName}:${x.name}`);
        // What the other node's administrator runs to register this one (its token comes from them).
        io.out(`on the peer: shieldwall peer add --name ${p.config.nodeName} --public-key ${k.publicKey}${url ? ` --url ${url}` : ' --url <this node\'s address>'}`
          + `${orgs.length ? orgs.map((x) => ` --org ${arg(x)}`).join('') : ' --org <id>:<SHORT>'}`);
        // Only a node between several others relays (a hub); a spoke's remote organisations are its hub's.
        const nodes = new Set(remote.map((x) => x.node));
        if (nodes.size >= 2) io.out(`if this node is their hub, a spoke also adds the organisations of the other spokes (not its own): ${remote.map((x) => `--relayed-org ${arg(x)}`).join(' ')}`);
        io.out(`then, once this node issued it a token: shieldwall peer set-token ${p.config.nodeName} < token.txt`);
      }
    }, { create: true }));
  peer.command('rotate-key')
    .description('replace this node\'s Ed25519 signing key; every peer must then register the new public key (peer update <this node> --public-key)')
    .option('--yes', 'rotate (without it, only says what rotating does)')
    .option('--json', 'print JSON')
    .action((o: { yes?: boolean; json?: boolean }) => withPlatform(async (p) => {
      const reg = registryOf(p);
      if (!o.yes) {
        throw new AppError('BAD_REQUEST', `rotating replaces the signing key of node ${p.config.nodeName} (public key ${reg.keys().publicKey}); until each peer `
          + 'registers the new one, it refuses what this node signs (kept in its reject list, retried after the update). Run again with --yes.');
      }
      const r = await reg.rotateKey(CLI_ACTOR);
      if (o.json) io.out(JSON.stringify({ node: p.config.nodeName, previousPublicKey: r.previous, publicKey: r.publicKey }));
      else {
        io.out(`node ${p.config.nodeName}: new public key ${r.publicKey} (was ${r.previous})`);
        io.out(`on every peer: shieldwall peer update ${p.config.nodeName} --public-key ${r.publicKey}`);
        io.out('servers on this data directory sign with the new key within a second; on a node with several API machines, copy federation-ed25519.pem to each');
      }
    }, { create: true }));
  peer.command('rotate-secret')
    .description('replace this node\'s federation secret (the key that keeps peer tokens and TAXII feed credentials encrypted) and re-encrypt them with it')
    .option('--yes', 'rotate (without it, only says what rotating does)')
    .option('--json', 'print JSON')
    .action((o: { yes?: boolean; json?: boolean }) => withPlatform(async (p) => {
      const reg = registryOf(p);
      if (!o.yes) {
        throw new AppError('BAD_REQUEST', `rotating replaces ${SECRET_KEY_FILE} of node ${p.config.nodeName} and re-encrypts every peer token and TAXII feed credential with the new one; `
          + 'the old file then opens nothing. Run again with --yes.');
      }
      const r = await rotateSecret(reg, CLI_ACTOR);
      if (o.json) io.out(JSON.stringify({ node: p.config.nodeName, ...r }));
      else {
        io.out(`node ${p.config.nodeName}: new ${SECRET_KEY_FILE}; ${r.peers} peer token(s) and ${r.feeds} TAXII feed credential(s) re-encrypted`);
        io.out(`servers on this data directory use it within a second; on a node with several API machines, copy ${SECRET_KEY_FILE} to each`);
      }
    }, { create: true }));
  peer.command('add')
    .description('register a peer node (or, without --url, a node known only by its key: the origin of relayed objects)')
    .requiredOption('--name <node>', 'the peer\'s node name (its SHIELDWALL_NODE_NAME)')
    .requiredOption('--public-key <base64>', 'the peer\'s Ed25519 public key (peer whoami on the peer)')
    .option('--url <url>', 'server root of the peer, e.g. https://node-b.example:8443')
    .option('--api-root <name>', 'API root on the peer', 'api1')
    .option('--token-stdin', 'read the token the peer issued to this node from stdin')
    .option('--ca <file>', 'PEM CA certificate to trust for the peer')
    .option('--org <id:SHORT[:Name]>', ORG_HELP, collect, [])
    .option('--relayed-org <id:SHORT[:Name]>', RELAYED_ORG_HELP, collect, [])
    .option('--json', 'print JSON')
    .action((o: { name: string; publicKey: string; url?: string; apiRoot: string; tokenStdin?: boolean; ca?: string; org: string[]; relayedOrg: string[]; json?: boolean }) => withPlatform(async (p) => {
      const reg = registryOf(p);
      const token = o.tokenStdin ? await readSecret('peer token: ', NO_TOKEN) : null;
      const rec = await reg.addPeer(CLI_ACTOR, {
        name: o.name, url: o.url ?? null, apiRoot: o.apiRoot, publicKey: o.publicKey, token,
        ca: o.ca ? readCa(o.ca) : null, orgs: orgsOf(o),
      });
      const v = await reg.view(rec);
      if (o.json) io.out(JSON.stringify(v, null, 2));
      else io.out(`peer ${v.name} added: identity ${v.identity}, ${v.orgs.length} organisations${v.hasToken ? ', token kept encrypted' : ''}`);
    }, { create: true }));
  peer.command('update <name>')
    .description('change a peer in place (its subscriptions stay): address, API root, rotated key, TLS CA, token, organisations')
    .option('--url <url>', 'new server root of the peer')
    .option('--api-root <name>', 'API root on the peer')
    .option('--public-key <base64>', 'the peer\'s new Ed25519 public key (after a key rotation on the peer)')
    .option('--ca <file>', 'PEM CA certificate to trust for the peer')
    .option('--no-ca', 'trust the system CAs again')
    .option('--token-stdin', 'replace the token the peer issued to this node, read from stdin')
    .option('--org <id:SHORT[:Name]>', `${ORG_HELP} (added, or made living on it)`, collect, [])
    .option('--relayed-org <id:SHORT[:Name]>', `${RELAYED_ORG_HELP} (added, or made relayed)`, collect, [])
    .option('--remove-org <id|SHORT>', 'an organisation no longer on or behind the peer (it stays here, served by no peer); repeatable', collect, [])
    .option('--drop-retired-keys', 'forget the keys the peer signed with before its rotations (after a compromise): what they signed stops verifying here')
    .option('--json', 'print JSON')
    .action((name: string, o: { url?: string; apiRoot?: string; publicKey?: string; ca?: string | false; tokenStdin?: boolean; org: string[]; relayedOrg: string[]; removeOrg: string[]; dropRetiredKeys?: boolean; json?: boolean }) => withPlatform(async (p) => {
      const reg = registryOf(p);
      await reg.peer(name);
      const token = o.tokenStdin ? await readSecret('peer token: ', NO_TOKEN) : undefined;
      const rec = await reg.updatePeer(CLI_ACTOR, name, {
        ...(o.url !== undefined ? { url: o.url } : {}), ...(o.apiRoot !== undefined ? { apiRoot: o.apiRoot } : {}),
        ...(o.publicKey !== undefined ? { publicKey: o.publicKey } : {}), ...(token !== undefined ? { token } : {}),
        ...(o.ca === false ? { ca: null } : typeof o.ca === 'string' ? { ca: readCa(o.ca) } : {}),
        orgs: orgsOf(o), removeOrgs: o.removeOrg, ...(o.dropRetiredKeys ? { dropRetiredKeys: true } : {}),
      });
      const v = await reg.view(rec);
      if (o.json) io.out(JSON.stringify(v, null, 2));
      else {
        const retired = v.retiredKeys.length > 0 ? `, ${v.retiredKeys.length} retired key${v.retiredKeys.length === 1 ? '' : 's'} still verifying what ${v.name} signed before` : '';
        io.out(`peer ${v.name} updated: ${v.url ?? '(key only)'}, ${v.orgs.length} organisations${v.hasToken ? ', token kept encrypted' : ''}${retired}`);
      }
    }));
  peer.command('set-token <name>')
    .description('keep (encrypted) the token the peer issued to this node, read from stdin')
    .action((name: string) => withPlatform(async (p) => {
      const reg = registryOf(p);
      await reg.peer(name);
      await reg.setToken(CLI_ACTOR, name, await readSecret('peer token: ', NO_TOKEN));
      io.out(`peer ${name}: token kept`);
    }));
  peer.command('list')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => withPlatform(async (p) => {
      const reg = registryOf(p);
      // With the push status of shared incidents and requests (as GET /federation/peers gives it).
      const views = await Promise.all((await reg.listPeers()).map(async (x) => ({ ...(await reg.view(x)), records: await recordPushStatus(reg, x.name) })));
      if (o.json) return io.out(JSON.stringify(views, null, 2));
      printRows(io, false, views.map((v) => ({
        name: v.name, url: v.url ?? '(key only)', orgs: v.orgs.map((x) => x.shortName).join(','), token: v.hasToken ? 'yes' : 'no',
        key: `${v.publicKey.slice(0, 12)}…${v.retiredKeys.length ? ` +${v.retiredKeys.length} retired` : ''}`,
        records: v.records.lastError ? `error: ${v.records.lastError}` : `${v.records.out} sent, ${v.records.refused} refused, ${v.records.relayWaiting} to relay`,
      })), ['name', 'url', 'orgs', 'token', 'key', 'records']);
    }));
  peer.command('show <name>')
    .action((name: string) => withPlatform(async (p) => {
      const reg = registryOf(p);
      io.out(JSON.stringify(await reg.view(await reg.peer(name)), null, 2));
    }));
  peer.command('remove <name>')
    .action((name: string) => withPlatform(async (p) => {
      await registryOf(p).removePeer(CLI_ACTOR, name);
      io.out(`peer ${name} removed`);
    }));

  const sync = program.command('sync').description('subscriptions: continuous pull/push of collections with peers');
  sync.command('add')
    .requiredOption('--peer <node>', 'peer node name')
    .requiredOption('--direction <pull|push>', 'pull a peer collection here, or push a local collection there')
    .requiredOption('--remote <collection>', 'collection id (or alias) on the peer')
    .requiredOption('--local <collection>', 'local collection (id, alias or title)')
    .option('--interval <s>', 'seconds between runs', '30')
    .option('--sightings-only', 'push: only sightings of objects that came from this peer (back to their origin)')
    .option('--type <stix-type>', 'only objects of this STIX type (repeatable; default every type): asked of the peer, nothing else travels', collect, [])
    .option('--since <time>', 'only what was added from this time on (RFC 3339 time or date, or N days: 30d): a pull starts at the peer\'s date_added, a push at this node\'s; default everything')
    .action((o: { peer: string; direction: string; remote: string; local: string; interval: string; sightingsOnly?: boolean; type: string[]; since?: string }) => withPlatform(async (p) => {
      const days = o.since !== undefined ? /^([1-9][0-9]{0,4})d$/.exec(o.since) : null;
      const since = days ? new Date(p.clock.now() - Number(days[1]) * 86_400_000).toISOString() : o.since;
      const sub = await registryOf(p).addSubscription(CLI_ACTOR, {
        peer: o.peer, direction: o.direction as 'pull' | 'push', remoteCollection: o.remote, localCollection: o.local, intervalS: Number(o.interval), sightingsOnly: o.sightingsOnly === true,
        ...(o.type.length > 0 ? { types: o.type } : {}), ...(since !== undefined ? { since } : {}),
      });
      io.out(sub.id);
    }));
  sync.command('list')
    .alias('status')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => withPlatform(async (p) => {
      const d = syncOf(p);
      const st = await Promise.all((await d.registry.listSubscriptions()).map((s) => statusOf(d, s)));
      if (o.json) return io.out(JSON.stringify(st, null, 2));
      printRows(io, false, st.map((s) => ({
        id: s.subscription.id, peer: s.subscription.peer, dir: s.subscription.direction, remote: s.subscription.remoteCollection, types: `${s.subscription.sightingsOnly ? 'sightings only' : s.subscription.types?.join(',') ?? 'all'}${s.subscription.since ? ` since ${s.subscription.since.slice(0, 10)}` : ''}`,
        in: String(s.state.objectsIn), out: String(s.state.objectsOut), retracted: String(s.state.retracted ?? 0), rejects: String(s.rejects), lag_s: s.lagS === null ? '-' : String(s.lagS),
        // With its time, as on the Federation page: an error before the last success is history.
        last_success: s.lastSuccess ?? '-',
        // When the scheduler of `serve` runs it next (after a failure: its backoff, or the peer's Retry-After).
        next_run: s.subscription.enabled ? s.nextRun : 'disabled',
        last_error: s.lastError === null ? '-' : `${s.lastErrorAt ?? '?'}: ${s.lastError}${s.failing ? '' : ' (resolved)'}`,
      })), ['id', 'peer', 'dir', 'remote', 'types', 'in', 'out', 'retracted', 'rejects', 'lag_s', 'last_success', 'next_run', 'last_error']);
    }));
  sync.command('run <id>')
    .description('run a subscription now')
    .option('--reset', 're-walk from the start (duplicates are no-ops)')
    .option('--json', 'print the run\'s report as JSON')
    .action((id: string, o: { reset?: boolean; json?: boolean }) => withPlatform(async (p) => {
      const d = syncOf(p);
      if (o.reset) await d.registry.reset(CLI_ACTOR, id);
      const sub = await d.registry.subscription(id);
      try {
        // Interactive: until the peer has nothing more (Ctrl-C stops it; the cursor is kept).
        const r = await runSubscription(d, sub, { maxRunMs: Infinity });
        if (o.json) io.out(JSON.stringify(r));
        else {
          const moved = r.direction === 'pull'
            ? `${r.received} received in ${r.pages} pages: ${r.added} added, ${r.duplicates} duplicates, ${r.looped} looped back, ${r.rejected} rejected${r.retracted ? `, ${r.retracted} retracted by their origin` : ''}`
            : `${r.sent} sent in ${r.pages} requests, ${r.rejected} rejected by the peer`;
          const rest = r.superseded
            ? '; stopped: another run of this subscription (a running server\'s schedule) or a reset moved its cursor meanwhile, see sync list'
            : r.complete ? '' : '; more remains (run again)';
          io.out(`${r.subscription} (${r.direction} ${sub.peer}/${sub.remoteCollection}): ${moved}${rest}`);
          if (r.rejected > 0) io.err(`rejected objects are kept with their reasons: shieldwall sync rejects ${r.subscription}`);
        }
        if (r.rejected > 0) throw new ExitRequest(EXIT.PARTIAL);
      } catch (e) {
        if (e instanceof ExitRequest || e instanceof AppError) throw e;
        throw new AppError('UNAVAILABLE', `peer ${sub.peer}: ${(e as Error).message}`);
      }
    }));
  sync.command('reset <id>')
    .description('the next run re-walks the collection from the start')
    .action((id: string) => withPlatform(async (p) => {
      await registryOf(p).reset(CLI_ACTOR, id);
      io.out(`${id}: cursor reset`);
    }));
  sync.command('rejects <id>')
    .option('--json', 'print JSON')
    .action((id: string, o: { json?: boolean }) => withPlatform(async (p) => {
      const reg = registryOf(p);
      await reg.subscription(id);
      const rows = (await reg.listRejects(id)).map((r) => ({ id: r.id ?? '-', version: r.version ?? '-', reason: r.reason }));
      printRows(io, o.json, rows, ['id', 'version', 'reason']);
    }));
  sync.command('retry <id>')
    .description('retry the reject list (after a fix)')
    .action((id: string) => withPlatform(async (p) => {
      const d = syncOf(p);
      const r = await retryRejects(d, await d.registry.subscription(id));
      io.out(JSON.stringify(r));
    }));
  sync.command('clear-rejects <id>')
    .description('empty the reject list (a pull waiting on a full list goes on)')
    .action((id: string) => withPlatform(async (p) => {
      const n = await registryOf(p).clearRejects(CLI_ACTOR, id);
      io.out(`${id}: ${n} rejects cleared`);
    }));
  sync.command('remove <id>')
    .action((id: string) => withPlatform(async (p) => {
      await registryOf(p).removeSubscription(CLI_ACTOR, id);
      io.out(`${id} removed`);
    }));
}

/**
 * `shieldwall pull`: one resumable pull of a peer node's TAXII 2.1 collection into a local
 * collection (federation/pull.ts). Run it again to continue: the cursor is kept in the store.
 * Ctrl-C stops after the page being committed; nothing is lost.
 */
import type { Command } from 'commander';
import { AppError } from '../../core/errors.js';
import { pull, type PullReport } from '../../federation/index.js';
import { EXIT, ExitRequest, collectionOf, orgOf, stdio, withPlatform, type Io } from '../context.js';
import { readInputBytes } from '../input-file.js';
import { readSecret } from '../secret.js';

interface PullOpts {
  peer: string;
  apiRoot: string;
  collection: string;
  token?: string;
  into: string;
  org: string;
  peerOrg?: string;
  peerNode?: string;
  ca?: string;
  pageSize: string;
  timeout: string;
  json?: boolean;
}

export function registerPull(program: Command, io: Io = stdio): void {
  program.command('pull')
    .description('pull a collection of a federated peer over TAXII 2.1 into a local collection (resumable)')
    .requiredOption('--peer <url>', 'server root of the peer node, e.g. https://node-a.example:8443')
    .option('--api-root <name>', 'API root on the peer', 'api1')
    .requiredOption('--collection <id>', 'collection id or alias on the peer')
    .option('--token <token>', 'peer token issued by the peer to --org (default: read from stdin, which keeps it out of ps)')
    .requiredOption('--into <collection>', 'local collection (id, alias or title)')
    .requiredOption('--org <org>', 'local organisation the pull runs for (short name or id)')
    .option('--peer-org <org>', 'local record of the peer\'s organisation: creator of objects naming no organisation of the peer node')
    .option('--peer-node <name>', 'name of the peer node (default: --peer-org\'s node, else the URL host)')
    .option('--ca <file>', 'PEM CA certificate to trust for the peer')
    .option('--page-size <n>', 'objects per page', '500')
    .option('--timeout <ms>', 'per-request timeout in milliseconds', '30000')
    .option('--json', 'print the report as JSON')
    .action((o: PullOpts) => withPlatform(async (p) => {
      const pageSize = positive('--page-size', o.pageSize);
      const timeoutMs = positive('--timeout', o.timeout);
      let url: URL;
      try {
        url = new URL(o.peer);
      } catch {
        throw new AppError('BAD_REQUEST', `--peer must be a URL, got ${o.peer}`);
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AppError('BAD_REQUEST', '--peer must be an http(s) URL');
      const token = o.token ?? (await readSecret('peer token: ', 'no peer token given: use --token, or pipe it on stdin'));
      const org = await orgOf(p, o.org);
      const into = await collectionOf(p, o.into);
      const peerOrg = o.peerOrg ? await orgOf(p, o.peerOrg) : null;
      const ac = new AbortController();
      const stop = () => ac.abort(new Error('interrupted'));
      process.once('SIGINT', stop);
      let report: PullReport;
      try {
        report = await pull({
          platform: p, intoCollectionId: into.id, asOrgId: org.id, signal: ac.signal, pageSize,
          peer: {
            url: o.peer, apiRoot: o.apiRoot, collectionId: o.collection, token, timeoutMs,
            ...(peerOrg ? { orgId: peerOrg.id } : {}), ...(o.peerNode ? { node: o.peerNode } : {}),
            ...(o.ca ? { tls: { ca: readInputBytes(o.ca, `--ca ${o.ca}`) } } : {}),
          },
          onPage: (r) => {
            if (!o.json) io.err(`page ${r.pages}: ${r.received} received, ${r.added} added, ${r.duplicates} duplicates, ${r.rejected} rejected`);
          },
        });
      } catch (e) {
        if (ac.signal.aborted) {
          io.err('shieldwall: pull interrupted; run the same command again to resume');
          throw new ExitRequest(EXIT.PARTIAL);
        }
        // Network and peer errors (TaxiiClientError) carry the peer's TAXII error message.
        if (e instanceof Error && e.name === 'TaxiiClientError') throw new AppError('UNAVAILABLE', `peer: ${e.message}`);
        throw e;
      } finally {
        process.off('SIGINT', stop);
      }
      if (o.json) io.out(JSON.stringify(report, null, 2));
      else io.out(`pulled ${report.received} objects from ${o.peer}: ${report.added} added, ${report.duplicates} duplicates, ${report.rejected} rejected`);
      for (const f of report.failures) io.err(`  rejected ${f.id ?? '(no id)'}: ${f.message}`);
      if (report.rejected > report.failures.length) io.err(`  ... and ${report.rejected - report.failures.length} more rejects`);
      if (report.rejected > 0) throw new ExitRequest(EXIT.PARTIAL);
    }));
}

function positive(flag: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new AppError('BAD_REQUEST', `${flag} must be a positive integer, got ${raw}`);
  return n;
}

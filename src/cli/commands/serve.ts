/** `shieldwall serve` and `shieldwall init`: start the node, optionally with the demo alliance. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { AppError } from '../../core/errors.js';
import type { Platform, RunningServer } from '../../api/index.js';
import { createRespondDemo } from '../../respond/index.js';
import { createReadinessDemo } from '../../readiness/index.js';
import { createExposureDemo } from '../../readiness/exposure/index.js';
import { createExerciseDemo } from '../../exercise/demo.js';
import { createDetectDemo } from '../../detect/pipeline/index.js';
import { createDemoAlliance, demoAllowed, writeDemoCredentials, DEMO_MARKER, type DemoResult, type DemoUserCredential } from '../../intel/demo/index.js';
import { CLI_ACTOR, cliConfig, stdio, withPlatform, type Io } from '../context.js';
import { privateDir } from '../../store/index.js';

interface ServeOptions { demo?: boolean; port?: string; host?: string }

function overrides(o: ServeOptions) {
  const out: { port?: number; host?: string } = {};
  if (o.port !== undefined) {
    out.port = Number(o.port);
    if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535) throw new AppError('BAD_REQUEST', `--port must be 0-65535, got "${o.port}"`);
  }
  if (o.host !== undefined) out.host = o.host;
  return out;
}

/**
 * Creates the demo alliance when asked and the node is empty. On a node where it already ran,
 * answers 'existing' (its credentials file is reused); on any other node, says why not.
 */
async function maybeDemo(p: Pick<Platform, 'store' | 'clock' | 'config' | 'access'> & Partial<Pick<Platform, 'detect' | 'sigma'>>, io: Io): Promise<DemoResult | 'existing' | null> {
  if (!(await demoAllowed(p.store))) {
    if (await p.store.getMeta(DEMO_MARKER)) return 'existing';
    io.err('demo: this node already has organisations; the demo alliance is only created on an empty data directory');
    return null;
  }
  const apiRoot = p.config.apiRoots[0]?.name ?? 'api1';
  const demo = await createDemoAlliance({ store: p.store, clock: p.clock }, { apiRoot, actor: CLI_ACTOR });
  const respond = await createRespondDemo({ store: p.store, clock: p.clock });
  io.err(`demo: created ${demo.organisations} organisations, ${demo.users.length} users, ${demo.collections} collections, ${demo.objects} objects, ${respond.incidents} incidents, ${respond.decisions} decisions`);
  const readiness = await createReadinessDemo({ store: p.store, clock: p.clock });
  io.err(`demo: readiness: ${readiness.assessments} assessments, ${readiness.findings} findings, ${readiness.vitalFunctions} vital functions`);
  const exposure = await createExposureDemo({ store: p.store, clock: p.clock });
  io.err(`demo: ${exposure.assets} assets, ${exposure.exposures} exposures, ${exposure.alerts} KEV alerts`);
  const exercise = await createExerciseDemo({ store: p.store, clock: p.clock });
  io.err(`demo: exercise "Cold Harbour 2026" (${exercise.injects} injects, 3 teams) ready to launch at 60x by csirt.excon: ${exercise.exerciseId}`);
  // Telemetry goes through the running node's pipeline (`serve --demo`; `init --demo` has none).
  if (p.detect) {
    const detect = await createDetectDemo({ store: p.store, access: p.access, clock: p.clock, detect: p.detect, ...(p.sigma ? { rules: p.sigma } : {}) });
    io.err(`demo: ${detect.sensors} sensors sent ${detect.events} telemetry events through the pipeline (${detect.rules} Sigma rules): ${detect.alerts} alerts`);
  }
  return demo;
}

/** A restarted demo node: point the existing credentials file at this run's URL. */
async function refreshDemoCredentials(dataDir: string, url: string, io: Io): Promise<string | null> {
  const file = path.join(dataDir, 'demo-credentials.json');
  try {
    const creds = JSON.parse(await readFile(file, 'utf8')) as { users?: DemoUserCredential[] };
    await writeDemoCredentials(dataDir, url, creds.users ?? []);
    io.err('demo: the demo alliance already exists on this node; its credentials are unchanged');
    return file;
  } catch {
    io.err(`demo: the demo alliance exists but ${file} is missing or unreadable; create users with \`shieldwall user create\``);
    return null;
  }
}

function signInHelp(io: Io, listening: string, publicUrl: string | undefined, file: string | null): void {
  io.out(`Shieldwall is listening on ${listening}${publicUrl ? `; users and peers reach it at ${publicUrl} (SHIELDWALL_PUBLIC_URL)` : ''}`);
  const url = publicUrl ?? listening;
  io.out(`  dashboard: ${url}/   TAXII 2.1 discovery: ${url}/taxii2/`);
  if (file) {
    // Names only on the console (logs are often kept); the passwords stay in the 0600 file.
    io.out(`  sign in at ${url}/ with a demo user; their passwords are in ${file} (readable by you only):`);
    // Users of a member with demo telemetry, so that the operational picture's feed is not empty.
    io.out('    ald.responder (alerts, incidents), ald.analyst (intel, alerts), csirt.rep / ald.rep (decisions), ald.admin (administration)');
    io.out(`    e.g.  node -e 'for (const u of require("${file}").users) console.log(u.username, u.password, u.roles.join(","))'`);
  } else {
    io.out('  sign in with a user created by `shieldwall user create`; TAXII clients use a token from `shieldwall token create`');
  }
}

export function registerServe(program: Command, io: Io = stdio): void {
  program.command('serve')
    .description('start the node: TAXII 2.1 server, REST API and dashboard')
    .option('--demo', 'on an empty data directory, create the demo alliance first')
    .option('--port <port>', 'listen port (default SHIELDWALL_PORT or 8443)')
    .option('--host <host>', 'listen address (default SHIELDWALL_HOST or 127.0.0.1)')
    .action(async (o: ServeOptions) => {
      const config = cliConfig(overrides(o));
      privateDir(config.dataDir);
      // Loaded on demand: the HTTP stack is only needed here.
      const { createPlatform, startServer } = await import('../../api/index.js');
      // Scale-out: a NATS that does not answer stops the start here, before anything is opened
      // that would hold the process (store pool, index timers) after the error is printed.
      if (config.nats) await (await import('../../scale/index.js')).checkNats(config.nats.url);
      // A failed start closes what it opened (createPlatform), so the command ends with its error.
      const platform = await createPlatform(config);
      let server: RunningServer | null = null;
      let stopFederation: () => Promise<void> = async () => undefined;
      try {
        // The detection worker process first: the demo's telemetry goes through it.
        platform.detect.start();
        const demo = o.demo ? await maybeDemo(platform, io) : null;
        server = await startServer(platform);
        // Continuous federation (docs/federation.md): subscriptions run in the leader process.
        if (config.federationSync) {
          const { startScheduler } = await import('../../federation/index.js');
          const sched = startScheduler({ store: platform.store, clock: platform.clock, registry: platform.federation, intel: platform.intel }, {
            tickMs: 500, active: () => platform.leader.isLeader(), onError: (sub, e) => io.err(`federation ${sub}: ${e instanceof Error ? e.message : String(e)}`),
          });
          stopFederation = sched.stop;
        }
        const file = demo === 'existing' ? await refreshDemoCredentials(config.dataDir, server.url, io)
          : demo ? await writeDemoCredentials(config.dataDir, server.url, demo.users) : null;
        signInHelp(io, server.url, platform.config.publicUrl, file);
      } catch (e) {
        await server?.close();
        await platform.close();
        throw e;
      }
      const running = server;
      // MISP and TAXII feeds are pulled on their schedule (docs/misp.md, docs/federation.md), by the
      // process that runs the background jobs; a failing feed records its error.
      const leads = () => platform.leader.isLeader();
      const { MispFeeds, MispFeedScheduler } = await import('../../misp/index.js');
      const mispFeeds = new MispFeedScheduler(new MispFeeds(platform), platform.clock, 30_000, { active: leads });
      mispFeeds.start();
      const { TaxiiFeeds, TaxiiFeedScheduler } = await import('../../federation/index.js');
      const taxiiFeeds = new TaxiiFeedScheduler(new TaxiiFeeds({ store: platform.store, clock: platform.clock, registry: platform.federation, intel: platform.intel }), platform.clock, { active: leads });
      taxiiFeeds.start();
      const feeds = { stop: async () => { await mispFeeds.stop(); await taxiiFeeds.stop(); } };
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (sig: string) => {
          if (stopping) return;
          stopping = true;
          io.err(`${sig}: shutting down`);
          // Finish in-flight requests, then close the store so the last commits are on disk.
          void stopFederation().then(() => feeds.stop()).then(() => running.close()).finally(() => platform.close().finally(resolve));
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });

  program.command('init')
    .description('create the data directory and database (and with --demo the demo alliance), then exit')
    .option('--demo', 'create the demo alliance on an empty data directory')
    .action(async (o: { demo?: boolean }) => {
      const config = cliConfig();
      privateDir(config.dataDir);
      await withPlatform(async (p) => {
        io.out(`initialised ${p.store.capabilities.dialect} store for node "${config.nodeName}" in ${config.databaseUrl ? 'PostgreSQL' : config.dataDir}`);
        if (!o.demo) return;
        const demo = await maybeDemo(p, io);
        if (demo === 'existing') io.err(`demo: the demo alliance was already created on this node; its credentials are in ${path.join(config.dataDir, 'demo-credentials.json')}`);
        if (!demo || demo === 'existing') return;
        const scheme = config.tlsCertFile ? 'https' : 'http';
        const host = config.host.includes(':') ? `[${config.host}]` : config.host;
        const file = await writeDemoCredentials(config.dataDir, `${scheme}://${host}:${config.port}`, demo.users);
        io.out(`demo credentials written to ${file} (mode 0600); start the node with \`shieldwall serve\` and sign in with one of them`);
      }, { create: true });
    });
}

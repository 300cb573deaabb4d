/**
 * Detection library benchmarks (src/detect; the end-to-end path through ingestion is bench/ingest.ts):
 * - indicator matching of real Suricata EVE lines (parse + normalise + match) with N indicators
 *   loaded, beside a bare JSON.parse loop over the same lines in the same run;
 * - the SigmaHQ corpus over real Sysmon-shaped events (OTRF datasets), events per CPU-second.
 * Reads the shared third-party data (tests and benchmarks may; the product never does).
 */
import fs from 'node:fs';
import path from 'node:path';
import { benchIndicatorMatching } from '../src/detect/indicators/bench.js';
import { benchSigma, loadRulesDir, type SigmaEvent } from '../src/detect/sigma/index.js';
import { sharedPath } from '../test/helpers/shared.js';
import { figuresOfOwnProcess, isMain } from './isolate.js';
import { log, round } from './stats.js';

export function benchIndicators(indicators: number, mix: 'atomic' | 'mixed' = 'atomic'): Record<string, number> {
  const lines = fs.readFileSync(sharedPath('data/telemetry/suricata-eve/surevego/testdata/eve.json'), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const r = benchIndicatorMatching({ indicators, events: lines, seconds: 5, mix });
  log(`indicators (${mix}): ${indicators} loaded in ${round(r.buildSeconds)} s; ${Math.round(r.eventsPerCpuSecond)} EVE events per CPU-s `
    + `(bare JSON.parse ${Math.round(r.baselineEventsPerCpuSecond)}; ratio ${round(r.cpuRatio)}); RSS ${Math.round(r.rssMb)} MB, heap ${Math.round(r.heapUsedMb)} MB; `
    + `${round(r.matches / r.events)} matches per event`);
  return {
    indicators_loaded: indicators, indicators_build_s: round(r.buildSeconds), indicators_events_per_s: Math.round(r.eventsPerSecond),
    indicators_events_per_cpu_s: Math.round(r.eventsPerCpuSecond), indicators_json_parse_per_cpu_s: Math.round(r.baselineEventsPerCpuSecond),
    indicators_vs_json_parse_ratio: round(r.cpuRatio), indicators_rss_mb: Math.round(r.rssMb),
  };
}

/** `benchIndicators` in a fresh process (bench/isolate.ts): `indicators_rss_mb` then measures the index. */
export function benchIndicatorsIsolated(indicators: number, mix: 'atomic' | 'mixed' = 'atomic'): Record<string, number> {
  return figuresOfOwnProcess(import.meta.url, [String(indicators), mix], 'indicator');
}

function jsonFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? jsonFiles(p) : d.name.endsWith('.json') ? [p] : [];
  });
}

export function benchSigmaCorpus(): Record<string, number> {
  const sigma = sharedPath('data/sigma');
  const t0 = performance.now();
  const items = ['rules', 'rules-emerging-threats', 'rules-threat-hunting'].flatMap((d) => loadRulesDir(path.join(sigma, d)).items);
  const loadS = (performance.now() - t0) / 1000;
  const events: SigmaEvent[] = [];
  for (const f of jsonFiles(sharedPath('data/telemetry/otrf-security-datasets/datasets/atomic/windows'))) {
    for (const line of fs.readFileSync(f, 'utf8').split('\n')) if (line.trim()) events.push(JSON.parse(line) as SigmaEvent);
  }
  const r = benchSigma(items, events, 5);
  log(`sigma: ${r.rules} rules (loaded in ${round(loadS)} s) over ${r.events} OTRF events: ${Math.round(r.eventsPerSecond)} events per CPU-s, ${Math.round(r.eventsPerWallSecond)} per wall-s`);
  return { sigma_rules: r.rules, sigma_load_s: round(loadS), sigma_events_per_cpu_s: Math.round(r.eventsPerSecond), sigma_events_per_s: Math.round(r.eventsPerWallSecond) };
}

/**
 * Run directly, this file benchmarks indicator matching alone (`npm run bench` runs everything
 * through run.ts): `node --expose-gc dist/bench/detect.js [indicators=1000000] [atomic|mixed]`.
 * The last stdout line is the JSON of figures, as with run.ts.
 */
if (isMain(import.meta.url)) {
  const n = Number(process.argv[2] ?? 1_000_000);
  const mix = process.argv[3] === 'mixed' ? 'mixed' : 'atomic';
  if (!Number.isInteger(n) || n <= 0) throw new Error(`indicators must be a positive integer, got "${process.argv[2]}"`);
  process.stdout.write(`${JSON.stringify(benchIndicators(n, mix))}\n`);
}

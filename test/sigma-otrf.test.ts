/**
 * OTRF Security Datasets (real Sysmon + Security logs of one attack technique each, with
 * background noise) through the whole SigmaHQ corpus. OTRF lists no expected detections; the
 * expectations below were derived by running the engine and reviewing the hits (docs/sigma.md):
 * each dataset raises a rule made for exactly that behaviour, and a rule tagged with the
 * dataset's ATT&CK technique (from the OTRF metadata).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadRulesDir, SigmaEngine } from '../src/detect/sigma/index.js';
import type { SigmaEvent, SigmaMatch } from '../src/detect/sigma/index.js';
import { filesUnder, sharedPath } from './helpers/shared.js';

const sigma = sharedPath('data/sigma');
const atomic = sharedPath('data/telemetry/otrf-security-datasets/datasets/atomic');

interface Meta { attack_mappings: { technique: string; 'sub-technique': string | null }[]; files: { link: string }[] }

/** dataset name (zip basename) -> ATT&CK technique id from the OTRF metadata */
const techniques = new Map<string, string>();
for (const f of filesUnder(path.join(atomic, '_metadata'), '.yaml')) {
  const m = parse(readFileSync(f, 'utf8')) as Meta;
  const a = m.attack_mappings[0];
  if (a === undefined) continue;
  const id = a['sub-technique'] ? `${a.technique}.${a['sub-technique']}` : a.technique;
  for (const l of m.files) techniques.set(path.basename(l.link, '.zip'), id);
}

/** The rule each dataset must raise (reviewed hits). */
const EXPECTED: Record<string, string> = {
  cmd_lsass_memory_dumpert_syscalls: 'HackTool - Dumpert Process Dumper Default File',
  cmd_psexec_lsa_secrets_dump: 'Dumping of Sensitive Hives Via Reg.EXE',
  cmd_sam_copy_esentutl: 'Copying Sensitive Files with Credential Data',
  psh_lsass_memory_dump_comsvcs: 'Process Memory Dump Via Comsvcs.DLL',
  cmd_bitsadmin_download_psh_script: 'File Download Via Bitsadmin',
  cmd_mshta_vbscript_execute_psh: 'Suspicious MSHTA Child Process',
  cmd_netsh_fw_mod_open_ports: 'New Firewall Rule Added Via Netsh.EXE',
  psh_cmstp_execution_bypassuac: 'Bypass UAC via CMSTP',
  psh_mavinject_dll_notepad: 'Mavinject Inject DLL Into Running Process',
  cmd_userinitmprlogonscript_batch: 'Potential Persistence Via Logon Scripts - Registry',
};

const items = ['rules', 'rules-emerging-threats', 'rules-threat-hunting'].flatMap((d) => loadRulesDir(path.join(sigma, d)).items);
const engine = new SigmaEngine(items);

describe('OTRF datasets through the SigmaHQ corpus', () => {
  const datasets = filesUnder(path.join(atomic, 'windows'), '.json');

  it('has the ten datasets with their metadata', () => {
    expect(datasets).toHaveLength(10);
    expect(techniques.size).toBeGreaterThanOrEqual(10);
  });

  it.each(datasets.map((f) => [path.basename(f), f]))('%s', (_name, file) => {
    const name = Object.keys(EXPECTED).find((k) => path.basename(file).startsWith(k));
    expect(name).toBeDefined();
    if (name === undefined) return;
    const matches: SigmaMatch[] = [];
    let n = 0;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const e = JSON.parse(line) as SigmaEvent;
      const t = Date.parse(String(e['@timestamp'] ?? e['TimeCreated']));
      matches.push(...engine.process(e, Number.isFinite(t) ? t : n++));
    }
    expect(matches.map((m) => m.title)).toContain(EXPECTED[name]);
    const technique = [...techniques].find(([k]) => path.basename(file).startsWith(k))?.[1];
    expect(technique).toBeDefined();
    // SigmaHQ at this snapshot tags netsh firewall rules with the renumbered T1686.003.
    if (name !== 'cmd_netsh_fw_mod_open_ports') {
      const tagged = matches.filter((m) => m.attack.some((a) => a === technique || a.startsWith(`${technique}.`) || technique?.startsWith(`${a}.`)));
      expect(tagged.length, `a hit tagged ${technique}`).toBeGreaterThan(0);
    }
  });
});

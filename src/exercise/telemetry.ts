/**
 * Synthetic telemetry of a technical inject: the lines a real attack would leave, generated
 * from an Atomic Red Team test, a Caldera ability, an ATT&CK technique id or network
 * observables. Sysmon (Windows event log, flat form as in OTRF Security-Datasets) for host
 * activity, Suricata EVE for flows and DNS, Zeek conn for the same connection. Pure: the same
 * payload, team and time give the same lines. The lines go through the real ingest pipeline.
 */
import type { TechnicalPayload, Variable } from './model.js';

const SYSMON = 'Microsoft-Windows-Sysmon/Operational';

/** Executors of Atomic Red Team / Caldera → the process that runs the command. */
const EXECUTORS: Readonly<Record<string, { image: string; arg: (cmd: string) => string; windows: boolean }>> = {
  command_prompt: { image: 'C:\\Windows\\System32\\cmd.exe', arg: (c) => `cmd.exe /c ${c}`, windows: true },
  cmd: { image: 'C:\\Windows\\System32\\cmd.exe', arg: (c) => `cmd.exe /c ${c}`, windows: true },
  powershell: { image: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe', arg: (c) => `powershell.exe -NoProfile -Command ${c}`, windows: true },
  psh: { image: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe', arg: (c) => `powershell.exe -NoProfile -Command ${c}`, windows: true },
  sh: { image: '/bin/sh', arg: (c) => `sh -c ${c}`, windows: false },
  bash: { image: '/bin/bash', arg: (c) => `bash -c ${c}`, windows: false },
};

/** Atomic `#{arg}` interpolation with the test's defaults, then scenario variables. */
export function interpolate(command: string, args: Readonly<Record<string, { readonly default?: string | number }>> = {}, vars: readonly Variable[] = []): string {
  return command.replace(/#\{([A-Za-z0-9_]{1,64})\}/g, (m, k: string) => {
    const a = args[k]?.default;
    if (a !== undefined) return String(a);
    return vars.find((v) => v.key === k)?.value ?? m;
  });
}

interface Ctx { readonly at: number; readonly host: string; readonly user: string; readonly seed: string }

/** A stable GUID-shaped id from a seed (Sysmon ProcessGuid), without randomness. */
function guid(seed: string): string {
  let h1 = 0x811c9dc5, h2 = 0x01000193;
  for (let i = 0; i < seed.length; i++) { h1 = Math.imul(h1 ^ seed.charCodeAt(i), 16777619) >>> 0; h2 = Math.imul(h2 + seed.charCodeAt(i), 2246822519) >>> 0; }
  const hex = (h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0')).repeat(2);
  return `{${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}}`;
}

function processCreation(ctx: Ctx, p: { executor: string; line: string; technique: string | undefined; n: number }): Record<string, unknown> {
  const ex = EXECUTORS[p.executor] ?? EXECUTORS.command_prompt!;
  const first = p.line.trim().split(/\s+/)[0] ?? '';
  // A command that names its own program (whoami, wmic, net …) runs it as a child of the shell.
  const image = /^[A-Za-z0-9_.-]+(\.exe)?$/.test(first) && ex.windows && !/^(cmd|powershell)(\.exe)?$/i.test(first)
    ? `C:\\Windows\\System32\\${first.toLowerCase().endsWith('.exe') ? first : `${first}.exe`}`
    : ex.image;
  const iso = new Date(ctx.at + p.n).toISOString();
  return {
    Channel: SYSMON, EventID: 1, Provider_Name: 'Microsoft-Windows-Sysmon', Hostname: ctx.host, Computer: ctx.host, TimeCreated: iso, UtcTime: iso.replace('T', ' ').replace('Z', ''),
    ProcessGuid: guid(`${ctx.seed}:${p.n}`), ProcessId: 4000 + p.n, Image: image, OriginalFileName: image.split(/[\\/]/).pop(),
    CommandLine: image === ex.image ? ex.arg(p.line) : p.line, CurrentDirectory: ex.windows ? 'C:\\Users\\Public\\' : '/tmp/',
    User: ctx.user, IntegrityLevel: 'Medium', ParentImage: ex.windows ? 'C:\\Windows\\explorer.exe' : '/usr/sbin/sshd', ParentCommandLine: ex.windows ? 'C:\\Windows\\explorer.exe' : 'sshd: user',
    ...(p.technique ? { RuleName: `technique_id=${p.technique}` } : {}),
  };
}

/** The lines (one JSON document each) a technical inject produces for one team. */
export function technicalLines(p: TechnicalPayload, o: { at: number; teamId: string; seed: string; vars?: readonly Variable[] }): string[] {
  const ctx: Ctx = { at: o.at, host: p.host ?? `ws-${o.teamId}-01`.slice(0, 60), user: `EXERCISE\\${o.teamId}-user`, seed: o.seed };
  const out: Record<string, unknown>[] = [];
  const technique = p.technique ?? p.atomic?.technique ?? p.caldera?.technique?.attack_id;
  const commands: { executor: string; line: string }[] = [];
  if (p.atomic?.executor.command) {
    const cmd = interpolate(p.atomic.executor.command, p.atomic.input_arguments ?? {}, o.vars ?? []);
    for (const line of cmd.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 20)) commands.push({ executor: p.atomic.executor.name, line });
  }
  if (p.caldera) {
    const platform = p.caldera.platforms.windows ?? p.caldera.platforms.linux ?? Object.values(p.caldera.platforms)[0];
    for (const [executor, spec] of Object.entries(platform ?? {}).slice(0, 1)) {
      for (const line of (spec.command ?? '').split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 20)) commands.push({ executor, line });
    }
  }
  if (commands.length === 0 && technique && !p.events?.length && !p.network?.length) commands.push({ executor: 'command_prompt', line: `rundll32.exe exercise-${technique}.dll,Start` });
  commands.forEach((c, n) => out.push(processCreation(ctx, { ...c, technique, n })));
  (p.network ?? []).forEach((net, i) => {
    const iso = new Date(o.at + 100 + i).toISOString();
    const src = `10.${(hash(o.teamId) % 200) + 10}.0.${10 + (i % 200)}`;
    if (net.domain) {
      out.push({ timestamp: iso, event_type: 'dns', src_ip: src, src_port: 53000 + i, dest_ip: '10.0.0.53', dest_port: 53, proto: 'UDP', dns: { type: 'query', rrname: net.domain, rrtype: 'A' }, host: ctx.host });
    }
    if (net.destIp) {
      const port = net.destPort ?? 443; const proto = net.proto ?? 'tcp';
      out.push({ timestamp: iso, event_type: 'flow', src_ip: src, src_port: 50000 + i, dest_ip: net.destIp, dest_port: port, proto: proto.toUpperCase(), flow_id: hash(`${o.seed}:${i}`), host: ctx.host });
      out.push({ ts: (o.at + 100 + i) / 1000, uid: `C${hash(`${o.seed}:z${i}`).toString(36)}`, 'id.orig_h': src, 'id.orig_p': 50000 + i, 'id.resp_h': net.destIp, 'id.resp_p': port, proto, _path: 'conn', conn_state: 'SF' });
    }
  });
  for (const e of p.events ?? []) out.push({ '@timestamp': new Date(o.at).toISOString(), ...e });
  return out.map((x) => JSON.stringify(x));
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}

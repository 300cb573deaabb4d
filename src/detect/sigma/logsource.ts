/**
 * Logsource routing. Sigma's `logsource` is not a field filter (spec "Log source"): the engine
 * decides which events a rule sees. An event is described by an {@link EventLogsource}; a rule sees
 * it when every key the rule declares is among the event's values for that key.
 */
import type { SigmaEvent } from './event.js';
import type { EventLogsource, Logsource } from './types.js';

function includes(v: string | readonly string[] | undefined, want: string): boolean {
  if (v === undefined) return false;
  return typeof v === 'string' ? v === want : v.includes(want);
}

export function ruleSeesEvent(rule: { readonly logsource: Logsource }, ls: EventLogsource | undefined): boolean {
  // Unrouted events (no known logsource) are offered to every rule; see docs/sigma.md.
  if (ls === undefined) return true;
  const r = rule.logsource;
  if (r.product !== undefined && !includes(ls.product, r.product)) return false;
  if (r.category !== undefined && !includes(ls.category, r.category)) return false;
  if (r.service !== undefined && !includes(ls.service, r.service)) return false;
  return true;
}

/** A stable key for an event logsource (used to cache routing decisions). */
export function eventLogsourceKey(ls: EventLogsource): string {
  const f = (v: string | readonly string[] | undefined): string => (v === undefined ? '' : typeof v === 'string' ? v : v.join(','));
  const m = ls.fieldMap === undefined ? '' : JSON.stringify(ls.fieldMap);
  return `${f(ls.product)}|${f(ls.category)}|${f(ls.service)}|${m}`;
}

/**
 * Security 4688 (process creation) names the process fields differently from Sysmon 1; SigmaHQ's
 * own CI mapping renames these two for process_creation rules.
 */
const SECURITY_4688: Readonly<Record<string, string>> = Object.freeze({ Image: 'NewProcessName', ParentImage: 'ParentProcessName' });

/** Sysmon event ids to Sigma categories (Sysmon's documented event types). */
const SYSMON: Readonly<Record<number, readonly string[]>> = {
  1: ['process_creation'],
  2: ['file_change'],
  3: ['network_connection'],
  4: ['sysmon_status'],
  5: ['process_termination'],
  6: ['driver_load'],
  7: ['image_load'],
  8: ['create_remote_thread'],
  9: ['raw_access_thread'],
  10: ['process_access'],
  11: ['file_event'],
  13: ['registry_event', 'registry_set'],
  14: ['registry_event', 'registry_rename'],
  15: ['create_stream_hash'],
  16: ['sysmon_status'],
  17: ['pipe_created'],
  18: ['pipe_created'],
  19: ['wmi_event'],
  20: ['wmi_event'],
  21: ['wmi_event'],
  22: ['dns_query'],
  23: ['file_delete'],
  24: ['clipboard_capture'],
  25: ['process_tampering'],
  26: ['file_delete', 'file_delete_detected'],
  27: ['file_block_executable'],
  28: ['file_block_shredding'],
  29: ['file_executable_detected'],
  255: ['sysmon_error'],
};

/** Windows event channels to Sigma `service` names (the names SigmaHQ rules use). */
export const WINDOWS_CHANNELS: Readonly<Record<string, string>> = {
  'security': 'security',
  'system': 'system',
  'application': 'application',
  'microsoft-windows-sysmon/operational': 'sysmon',
  'microsoft-windows-powershell/operational': 'powershell',
  'windows powershell': 'powershell-classic',
  'microsoft-windows-windows defender/operational': 'windefend',
  'microsoft-windows-taskscheduler/operational': 'taskscheduler',
  'microsoft-windows-wmi-activity/operational': 'wmi',
  'microsoft-windows-bits-client/operational': 'bits-client',
  'microsoft-windows-dns-client/operational': 'dns-client',
  'microsoft-windows-codeintegrity/operational': 'codeintegrity-operational',
  'microsoft-windows-windows firewall with advanced security/firewall': 'firewall-as',
  'microsoft-windows-terminalservices-localsessionmanager/operational': 'terminalservices-localsessionmanager',
  'microsoft-windows-ntlm/operational': 'ntlm',
  'microsoft-windows-applocker/exe and dll': 'applocker',
  'microsoft-windows-applocker/msi and script': 'applocker',
  'microsoft-windows-printservice/admin': 'printservice-admin',
  'microsoft-windows-printservice/operational': 'printservice-operational',
  'microsoft-windows-smbclient/security': 'smbclient-security',
  'openssh/operational': 'openssh',
  'dns server': 'dns-server',
  'microsoft-windows-ldap-client/debug': 'ldap',
  'microsoft-windows-security-mitigations/kernel mode': 'security-mitigations',
  'microsoft-windows-security-mitigations/user mode': 'security-mitigations',
  'microsoft-windows-appxdeployment-server/operational': 'appxdeployment-server',
  'microsoft-windows-diagnosis-scripted/operational': 'diagnosis-scripted',
  'microsoft-windows-shell-core/operational': 'shell-core',
  'microsoft-windows-kernel-shimengine/operational': 'kernel-shimengine',
  'microsoft-windows-capi2/operational': 'capi2',
  'microsoft-windows-bitlocker/bitlocker management': 'bitlocker',
  'msexchange management': 'msexchange-management',
  'microsoft-windows-lsa/operational': 'lsa-server',
};

/** Providers whose events may arrive through another channel (Windows Event Forwarding). */
const PROVIDERS: Readonly<Record<string, string>> = {
  'microsoft-windows-sysmon': 'sysmon',
  'microsoft-windows-security-auditing': 'security',
  'microsoft-windows-powershell': 'powershell',
  'microsoft-windows-windows defender': 'windefend',
  'service control manager': 'system',
};

/** PowerShell event ids to categories (4103 module logging, 4104 script block, classic 400/600/800). */
const POWERSHELL: Readonly<Record<string, Readonly<Record<number, string>>>> = {
  'powershell': { 4103: 'ps_module', 4104: 'ps_script' },
  'powershell-classic': { 400: 'ps_classic_start', 600: 'ps_classic_provider_start', 800: 'ps_classic_script' },
};

/**
 * Derive the logsource of a flat Windows event (fields `Channel`, `EventID`, optional
 * `EventType`), e.g. Sysmon EventID 1 → windows / process_creation / sysmon. Security 4688 is also
 * `process_creation` with `Image`/`ParentImage` mapped to `NewProcessName`/`ParentProcessName`. Returns
 * undefined when the event carries no Channel.
 */
const memo = new Map<string, EventLogsource>();

export function windowsLogsource(event: SigmaEvent): EventLogsource | undefined {
  const channel = event['Channel'];
  if (typeof channel !== 'string') return undefined;
  // Memoised per (channel, id, type): the same object comes back, so routes cache by identity.
  const key = `${channel}|${String(event['EventID'])}|${String(event['EventType'] ?? '')}|${String(event['Provider_Name'] ?? '')}`;
  let ls = memo.get(key);
  if (ls === undefined) {
    ls = Object.freeze(deriveWindows(event, channel));
    if (memo.size > 4096) memo.clear();
    memo.set(key, ls);
  }
  return ls;
}

function deriveWindows(event: SigmaEvent, channel: string): EventLogsource {
  const lc = channel.toLowerCase();
  let service = Object.hasOwn(WINDOWS_CHANNELS, lc) ? WINDOWS_CHANNELS[lc] : undefined;
  if (service === undefined) {
    // Forwarded events (WEC, "ForwardedEvents") keep their provider: route by it instead.
    const provider = String(event['Provider_Name'] ?? '').toLowerCase();
    if (Object.hasOwn(PROVIDERS, provider)) service = PROVIDERS[provider];
  }
  const eid = Number(event['EventID']);
  const categories: string[] = [];
  if (service === 'sysmon') {
    categories.push(...(SYSMON[eid] ?? []));
    if (eid === 12) {
      categories.push('registry_event');
      const t = String(event['EventType'] ?? '');
      if (t === 'CreateKey') categories.push('registry_add');
      else if (t === 'DeleteKey' || t === 'DeleteValue') categories.push('registry_delete');
    }
  } else if (service === 'security' && eid === 4688) {
    categories.push('process_creation');
    return { product: 'windows', service, category: Object.freeze(categories), fieldMap: SECURITY_4688 };
  } else if (service !== undefined) {
    const c = Object.hasOwn(POWERSHELL, service) ? POWERSHELL[service]?.[eid] : undefined;
    if (c !== undefined) categories.push(c);
  }
  return { product: 'windows', service: service ?? channel.toLowerCase(), category: Object.freeze(categories) };
}

/**
 * Windows event log records as JSON → ECS, in the two shapes seen in the wild:
 * - flat (Winlogbeat-less exports such as OTRF Security-Datasets): `Channel`, `EventID`,
 *   `Hostname`, and the EventData fields at top level;
 * - evtx_dump / python-evtx form: `Event.System.{EventID, Channel, Computer, Provider.#attributes.Name,
 *   TimeCreated.#attributes.SystemTime}` and `Event.EventData.*` (SigmaHQ regression data).
 * Both are flattened into the field names Sigma rules use (kept under `original`); ECS fields are
 * mapped as pySigma's Elasticsearch Windows pipeline does (Image → process.executable, ...).
 */
import { WINDOWS_CHANNELS, windowsLogsource } from '../sigma/logsource.js';
import type { EventLogsource } from './types.js';
import type { Draft, Obj } from './util.js';
import { baseName, int, ipStr, isObj, nameStr, put, putUser, str } from './util.js';

/** Flattens the `Event.System` / `Event.EventData` form; returns the flat record unchanged. */
export function flattenWindows(doc: Obj): Obj {
  const ev = doc['Event'];
  if (!isObj(ev)) return doc;
  const sys = isObj(ev['System']) ? ev['System'] : {};
  const out: Obj = {};
  const provider = sys['Provider'];
  const attrs = isObj(provider) && isObj(provider['#attributes']) ? provider['#attributes'] : {};
  if (attrs['Name'] !== undefined) out['Provider_Name'] = attrs['Name'];
  const eid = sys['EventID'];
  out['EventID'] = isObj(eid) ? eid['#text'] : eid;
  for (const k of ['Channel', 'Computer', 'Level', 'Task', 'Opcode', 'Keywords', 'EventRecordID', 'Version']) {
    if (sys[k] !== undefined) out[k] = sys[k];
  }
  const created = sys['TimeCreated'];
  if (isObj(created) && isObj(created['#attributes'])) out['TimeCreated'] = created['#attributes']['SystemTime'];
  for (const section of ['EventData', 'UserData']) {
    const data = ev[section];
    if (!isObj(data)) continue;
    // UserData wraps its fields in one element named after the event's schema.
    const vals = Object.values(data);
    const inner = section === 'UserData' && vals.length === 1 && isObj(vals[0]) ? vals[0] : data;
    for (const [k, v] of Object.entries(inner)) if (k !== '#attributes' && !(k in out)) out[k] = v;
  }
  return out;
}


// Sysmon event ids → Sigma categories (SigmaHQ tests/thor.yml and the Sysmon schema).
const SYSMON: Readonly<Record<number, readonly [string, string]>> = {
  1: ['process_creation', 'process'], 2: ['file_change', 'file'], 3: ['network_connection', 'network'],
  5: ['process_termination', 'process'], 6: ['driver_load', 'driver'], 7: ['image_load', 'library'],
  8: ['create_remote_thread', 'process'], 9: ['raw_access_thread', 'file'], 10: ['process_access', 'process'],
  11: ['file_event', 'file'], 12: ['registry_event', 'registry'], 13: ['registry_set', 'registry'],
  14: ['registry_rename', 'registry'], 15: ['create_stream_hash', 'file'], 17: ['pipe_created', 'file'],
  18: ['pipe_created', 'file'], 19: ['wmi_event', 'host'], 20: ['wmi_event', 'host'], 21: ['wmi_event', 'host'],
  22: ['dns_query', 'network'], 23: ['file_delete', 'file'], 24: ['clipboard_capture', 'host'],
  25: ['process_tampering', 'process'], 26: ['file_delete_detected', 'file'], 29: ['file_executable_detected', 'file'],
};

function logsourceOf(channel: string | undefined, eid: number | undefined, flat: Obj): [EventLogsource, string | undefined] {
  // Sigma's channel → service table; an unknown channel keeps its own (lower-cased) name.
  const lc = channel?.toLowerCase();
  const service = lc === undefined ? undefined : Object.hasOwn(WINDOWS_CHANNELS, lc) ? WINDOWS_CHANNELS[lc] : lc;
  if (service === 'sysmon' && eid !== undefined) {
    const hit = SYSMON[eid];
    if (hit !== undefined) {
      let category = hit[0];
      if (eid === 12) {
        const t = str(flat['EventType']);
        if (t === 'CreateKey') category = 'registry_add';
        else if (t === 'DeleteKey' || t === 'DeleteValue') category = 'registry_delete';
      }
      return [{ product: 'windows', service, category }, hit[1]];
    }
  }
  if (service === 'security' && eid === 4688) return [{ product: 'windows', service, category: 'process_creation' }, 'process'];
  if (service === 'powershell' && eid === 4104) return [{ product: 'windows', service, category: 'ps_script' }, 'process'];
  if (service === 'powershell' && eid === 4103) return [{ product: 'windows', service, category: 'ps_module' }, 'process'];
  return [service === undefined ? { product: 'windows' } : { product: 'windows', service }, undefined];
}

/** `SHA1=…,MD5=…,SHA256=…,IMPHASH=…` (Sysmon `Hashes`) under `<prefix>.hash.*`. */
function putSysmonHashes(d: Draft, prefix: string, v: unknown): void {
  const s = str(v);
  if (s === undefined) return;
  for (const part of s.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const algo = part.slice(0, eq).trim().toLowerCase();
    const hex = part.slice(eq + 1).trim();
    if (/^[0-9a-fA-F]+$/.test(hex) && ['md5', 'sha1', 'sha256', 'imphash'].includes(algo)) {
      d[algo === 'imphash' ? `${prefix}.pe.imphash` : `${prefix}.hash.${algo}`] = hex.toLowerCase();
    }
  }
}

/** Fills `d` from a Windows event (either shape); `flat` is the flattened record. Returns an error or null. */
export function normaliseWindows(d: Draft, flat: Obj): string | null {
  const eid = int(flat['EventID']);
  if (eid === undefined) return 'Windows event without a numeric EventID';
  const channel = str(flat['Channel']);
  d['event.module'] = 'windows';
  d['event.code'] = String(eid);
  put(d, 'winlog.channel', channel);
  put(d, 'event.provider', str(flat['Provider_Name'] ?? flat['SourceName']));
  put(d, 'host.name', str(flat['Computer'] ?? flat['Hostname']));
  const [ls, category] = logsourceOf(channel, eid, flat);
  // Sigma routing is the engine's own derivation (sigma/logsource.ts): Sysmon 13 is both
  // registry_set and registry_event, forwarded events are routed by provider, and Security 4688
  // carries the Image → NewProcessName field map. A table of its own here gave none of these,
  // so rules the engine fires on these events never fired through the pipeline.
  d['logsource'] = windowsLogsource(flat) ?? ls;
  d['event.dataset'] = ls.service === undefined ? 'windows' : `windows.${ls.service}`;
  if (category !== undefined) d['event.category'] = [category];
  const sysmon = ls.service === 'sysmon';
  if (sysmon && eid === 1) d['event.type'] = ['start'];
  // Process fields: Sysmon names and Security 4688 names (NewProcessName / ParentProcessName).
  const image = str(flat['Image'] ?? flat['NewProcessName']);
  if (image !== undefined) { d['process.executable'] = image; d['process.name'] = baseName(image); }
  put(d, 'process.command_line', str(flat['CommandLine']));
  put(d, 'process.pid', int(flat['ProcessId'] ?? flat['NewProcessId']));
  put(d, 'process.entity_id', str(flat['ProcessGuid']));
  put(d, 'process.pe.original_file_name', str(flat['OriginalFileName']));
  const parent = str(flat['ParentImage'] ?? flat['ParentProcessName']);
  if (parent !== undefined) { d['process.parent.executable'] = parent; d['process.parent.name'] = baseName(parent); }
  put(d, 'process.parent.command_line', str(flat['ParentCommandLine']));
  put(d, 'process.parent.pid', int(flat['ParentProcessId']));
  putUser(d, flat['User'] ?? flat['TargetUserName'] ?? flat['SubjectUserName']);
  // Sysmon 1 hashes the process image; 6/7/15/23/26/29 hash the file they name.
  if (sysmon && eid === 1) putSysmonHashes(d, 'process', flat['Hashes']);
  else putSysmonHashes(d, 'file', flat['Hashes'] ?? flat['Hash']);
  const file = str(flat['TargetFilename'] ?? flat['ImageLoaded']);
  if (file !== undefined) { d['file.path'] = file; d['file.name'] = baseName(file); }
  put(d, 'registry.path', str(flat['TargetObject']));
  put(d, 'source.ip', ipStr(flat['SourceIp'] ?? flat['SourceAddress'] ?? flat['IpAddress']));
  put(d, 'source.port', int(flat['SourcePort'] ?? flat['IpPort']));
  put(d, 'destination.ip', ipStr(flat['DestinationIp'] ?? flat['DestAddress']));
  put(d, 'destination.port', int(flat['DestinationPort'] ?? flat['DestPort']));
  put(d, 'destination.domain', nameStr(flat['DestinationHostname']));
  const proto = str(flat['Protocol']);
  if (proto !== undefined && /^[a-z]+$/i.test(proto)) d['network.transport'] = proto.toLowerCase();
  const query = nameStr(flat['QueryName']);
  if (query !== undefined) d['dns.question.name'] = query;
  put(d, 'message', str(flat['Message']));
  return null;
}

/**
 * Flattening of Windows events in the evtx_dump JSON shape (`Event.System`, `Event.EventData`) into
 * the flat field names Sigma rules use: `EventID`, `Channel`, `Computer`, `Provider_Name`, plus
 * every EventData/UserData field at top level (also without spaces in its name).
 */
import type { SigmaEvent } from './event.js';

type Obj = Record<string, unknown>;
const isMap = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

export function flattenWindowsEvent(doc: unknown): SigmaEvent | undefined {
  if (!isMap(doc) || !isMap(doc['Event'])) return undefined;
  const ev = doc['Event'];
  const sys = isMap(ev['System']) ? ev['System'] : {};
  const out: Obj = {};
  const provider = sys['Provider'];
  const attrs = isMap(provider) && isMap(provider['#attributes']) ? provider['#attributes'] : {};
  if (attrs['Name'] !== undefined) out['Provider_Name'] = attrs['Name'];
  const eid = sys['EventID'];
  out['EventID'] = isMap(eid) ? eid['#text'] : eid;
  for (const k of ['Channel', 'Computer', 'Level', 'Task', 'Opcode', 'Keywords', 'EventRecordID', 'Version']) {
    if (sys[k] !== undefined) out[k] = sys[k];
  }
  const created = sys['TimeCreated'];
  if (isMap(created) && isMap(created['#attributes'])) out['TimeCreated'] = created['#attributes']['SystemTime'];
  const security = sys['Security'];
  if (isMap(security) && isMap(security['#attributes']) && security['#attributes']['UserID'] !== undefined) {
    out['SecurityUserID'] = security['#attributes']['UserID'];
  }
  for (const section of ['EventData', 'UserData']) {
    const data = ev[section];
    if (!isMap(data)) continue;
    // UserData wraps its fields in one element named after the event's schema.
    const inner = section === 'UserData' && Object.keys(data).length === 1 && isMap(Object.values(data)[0]) ? (Object.values(data)[0] as Obj) : data;
    for (const [k, v] of Object.entries(inner)) {
      if (k === '#attributes' || k in out) continue;
      out[k] = v;
      // Defender and a few providers name fields with spaces ("Source Name"); Sigma rules use
      // the space-less form (SourceName), as the EVTX renderers the rules are tested with do.
      const compact = k.replace(/\s+/g, '');
      if (compact !== k && !(compact in out)) out[compact] = v;
    }
  }
  return out;
}

/** Split text holding one or more concatenated JSON values (pretty-printed objects back to back). */
export function splitConcatenatedJson(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inStr = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    else if (c === '{' || c === '[') {
      if (depth++ === 0) start = i;
    } else if (c === '}' || c === ']') {
      if (--depth === 0 && start >= 0) {
        out.push(JSON.parse(text.slice(start, i + 1)));
        start = -1;
      }
    }
  }
  return out;
}

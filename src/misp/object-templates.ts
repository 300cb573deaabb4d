/**
 * MISP object templates with a STIX observable form (misp-stix misp_objects_to_stix21):
 * file, domain-ip, ip-port, email, url, credential. Each template maps its known object
 * relations both ways; an object with a relation the template does not know (or a value the
 * SCO cannot hold) is kept whole as `x-misp-object` instead, so nothing is lost or guessed.
 * The indicator pattern ANDs the comparisons of the to_ids attributes only; on export an
 * attribute is to_ids when its comparison is in the indicator's pattern.
 */
import { HASHES, hashPath, isIpv6, lit, type Sco } from './attribute-types.js';
import type { MispAttribute, MispObject } from './model.js';

export interface ObjectAttr { type: string; objectRelation: string; value: string; uuid?: string }
/** An attribute read back from STIX, with the pattern comparison it would have produced. */
export interface ReadAttr extends ObjectAttr { frag: string }

export interface Template {
  toStix(o: MispObject, attrs: readonly MispAttribute[]): { scos: Sco[]; pattern: string[] } | string;
  fromStix(scos: readonly Sco[], objectUuid: string): ReadAttr[];
}

const xKey = (rel: string) => `x_misp_${rel.replace(/[^a-z0-9]+/gi, '_').toLowerCase()}`;
const uuidOf = (id: unknown) => (typeof id === 'string' ? id.slice(id.indexOf('--') + 2) : undefined);

/** Relations kept as `x_misp_<relation>` custom properties, with their MISP type. */
type Extras = Readonly<Record<string, string>>;

function unknownRelation(attrs: readonly MispAttribute[], known: ReadonlySet<string>): string | null {
  const seen = new Set<string>();
  for (const a of attrs) {
    const r = a.objectRelation ?? '';
    if (!known.has(r)) return `relation "${r}" has no STIX property in this template`;
    if (seen.has(r)) return `relation "${r}" appears more than once`;
    seen.add(r);
  }
  return null;
}

function checkType(a: MispAttribute, types: readonly string[]): string | null {
  return types.includes(a.type) ? null : `relation "${a.objectRelation}" has type ${a.type}, expected ${types.join(' or ')}`;
}

function readExtras(sco: Sco | undefined, extras: Extras): ReadAttr[] {
  if (!sco) return [];
  return Object.entries(extras).flatMap(([rel, type]) => (sco[xKey(rel)] === undefined ? [] : [{ type, objectRelation: rel, value: String(sco[xKey(rel)]), frag: '' }]));
}

const FILE_EXTRAS: Extras = { entropy: 'float', state: 'text', text: 'text', fullpath: 'text', authentihash: 'authentihash', imphash: 'imphash', pattern: 'pattern-in-file', 'file-encoding': 'text', certificate: 'x509-fingerprint-sha1', 'compilation-timestamp': 'datetime' };
const FILE_HASHES = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'ssdeep', 'tlsh'];

const file: Template = {
  toStix(o, attrs) {
    const known = new Set(['filename', 'size-in-bytes', 'mimetype', 'path', ...FILE_HASHES, ...Object.keys(FILE_EXTRAS)]);
    const why = unknownRelation(attrs, known);
    if (why) return why;
    const f: Sco = { type: 'file', id: `file--${o.uuid}` };
    const scos: Sco[] = [f];
    const hashFrags: string[] = [];
    const frags: string[] = [];
    for (const a of attrs) {
      const r = a.objectRelation!;
      let frag: string;
      if (FILE_HASHES.includes(r)) {
        const bad = checkType(a, [r]);
        if (bad) return bad;
        const h = HASHES[r]!;
        f.hashes = { ...(f.hashes as Record<string, string> | undefined), [h]: a.value };
        frag = `file:hashes.${hashPath(h)} = ${lit(a.value)}`;
        if (a.toIds) hashFrags.push(frag);
        continue;
      } else if (r === 'filename') {
        f.name = a.value;
        frag = `file:name = ${lit(a.value)}`;
      } else if (r === 'size-in-bytes') {
        if (!/^\d{1,15}$/.test(a.value)) return `size-in-bytes "${a.value.slice(0, 30)}" is not a number`;
        f.size = Number(a.value);
        frag = `file:size = '${a.value}'`;
      } else if (r === 'mimetype') {
        f.mime_type = a.value;
        frag = `file:mime_type = ${lit(a.value)}`;
      } else if (r === 'path') {
        const d: Sco = { type: 'directory', id: `directory--${a.uuid}`, path: a.value };
        scos.push(d);
        f.parent_directory_ref = d.id;
        frag = `file:parent_directory_ref.path = ${lit(a.value)}`;
      } else {
        const bad = checkType(a, [FILE_EXTRAS[r]!]);
        if (bad) return bad;
        f[xKey(r)] = a.value;
        frag = `file:${xKey(r)} = ${lit(a.value)}`;
      }
      if (a.toIds) frags.push(frag);
    }
    return { scos, pattern: [...hashFrags, ...frags] };
  },
  fromStix(scos, objectUuid) {
    const f = scos.find((s) => s.type === 'file' && s.id === `file--${objectUuid}`);
    if (!f) return [];
    const out: ReadAttr[] = [];
    for (const [h, v] of Object.entries((f.hashes as Record<string, string> | undefined) ?? {})) {
      const rel = Object.keys(HASHES).find((k) => HASHES[k] === h);
      if (rel) out.push({ type: rel, objectRelation: rel, value: v, frag: `file:hashes.${hashPath(h)} = ${lit(v)}` });
    }
    if (typeof f.name === 'string') out.push({ type: 'filename', objectRelation: 'filename', value: f.name, frag: `file:name = ${lit(f.name)}` });
    if (typeof f.size === 'number') out.push({ type: 'size-in-bytes', objectRelation: 'size-in-bytes', value: String(f.size), frag: `file:size = '${f.size}'` });
    if (typeof f.mime_type === 'string') out.push({ type: 'mime-type', objectRelation: 'mimetype', value: f.mime_type, frag: `file:mime_type = ${lit(f.mime_type)}` });
    const d = scos.find((s) => s.id === f.parent_directory_ref);
    if (d && typeof d.path === 'string') out.push({ type: 'text', objectRelation: 'path', value: d.path, uuid: uuidOf(d.id), frag: `file:parent_directory_ref.path = ${lit(d.path)}` });
    for (const x of readExtras(f, FILE_EXTRAS)) out.push({ ...x, frag: `file:${xKey(x.objectRelation)} = ${lit(x.value)}` });
    return out;
  },
};

const ipSco = (v: string, uuid: string | undefined): Sco => ({ type: isIpv6(v) ? 'ipv6-addr' : 'ipv4-addr', id: `${isIpv6(v) ? 'ipv6-addr' : 'ipv4-addr'}--${uuid}`, value: v });

const domainIp: Template = {
  toStix(o, attrs) {
    const why = unknownRelation(attrs.filter((a) => a.objectRelation !== 'ip'), new Set(['domain', 'text', 'port']));
    if (why) return why;
    const domains = attrs.filter((a) => a.objectRelation === 'domain');
    if (domains.length !== 1) return 'a domain-ip object needs exactly one domain';
    const ips = attrs.filter((a) => a.objectRelation === 'ip');
    const extra = attrs.filter((a) => a.objectRelation !== 'ip' && a.objectRelation !== 'domain');
    const ipScos = ips.map((a) => ipSco(a.value, a.uuid));
    const d = domains[0]!;
    const dn: Sco = { type: 'domain-name', id: `domain-name--${d.uuid}`, value: d.value, ...(ipScos.length ? { resolves_to_refs: ipScos.map((s) => s.id) } : {}) };
    for (const e of extra) dn[xKey(e.objectRelation!)] = e.value;
    const pattern = [
      ...(d.toIds ? [`domain-name:value = ${lit(d.value)}`] : []),
      ...ips.filter((a) => a.toIds).map((a) => `domain-name:resolves_to_refs[*].value = ${lit(a.value)}`),
    ];
    return { scos: [...ipScos, dn], pattern };
  },
  fromStix(scos) {
    const dn = scos.find((s) => s.type === 'domain-name');
    if (!dn || typeof dn.value !== 'string') return [];
    const out: ReadAttr[] = [{ type: 'domain', objectRelation: 'domain', value: dn.value, uuid: uuidOf(dn.id), frag: `domain-name:value = ${lit(dn.value)}` }];
    for (const ref of (dn.resolves_to_refs as string[] | undefined) ?? []) {
      const ip = scos.find((s) => s.id === ref);
      if (ip && typeof ip.value === 'string') out.push({ type: 'ip-dst', objectRelation: 'ip', value: ip.value, uuid: uuidOf(ip.id), frag: `domain-name:resolves_to_refs[*].value = ${lit(ip.value)}` });
    }
    return [...out, ...readExtras(dn, { text: 'text', port: 'port' }).map((x) => ({ ...x, frag: '' }))];
  },
};

const IP_PORT_RELS: Readonly<Record<string, { types: string[]; dir: 'src' | 'dst'; kind: 'ip' | 'port' }>> = {
  ip: { types: ['ip-dst'], dir: 'dst', kind: 'ip' }, 'ip-src': { types: ['ip-src'], dir: 'src', kind: 'ip' },
  'dst-port': { types: ['port'], dir: 'dst', kind: 'port' }, 'src-port': { types: ['port'], dir: 'src', kind: 'port' },
};

const ipPort: Template = {
  toStix(o, attrs) {
    const why = unknownRelation(attrs, new Set(Object.keys(IP_PORT_RELS)));
    if (why) return why;
    const nt: Sco = { type: 'network-traffic', id: `network-traffic--${o.uuid}`, protocols: ['tcp'] };
    const scos: Sco[] = [nt];
    const pattern: string[] = [];
    for (const a of attrs) {
      const spec = IP_PORT_RELS[a.objectRelation!]!;
      const bad = checkType(a, spec.types);
      if (bad) return bad;
      if (spec.kind === 'ip') {
        const ip = ipSco(a.value, a.uuid);
        scos.push(ip);
        nt[`${spec.dir}_ref`] = ip.id;
        if (a.toIds) pattern.push(`network-traffic:${spec.dir}_ref.type = '${ip.type}'`, `network-traffic:${spec.dir}_ref.value = ${lit(a.value)}`);
      } else {
        if (!/^\d{1,5}$/.test(a.value) || Number(a.value) > 65535) return `port "${a.value.slice(0, 20)}" is not a port number`;
        nt[`${spec.dir}_port`] = Number(a.value);
        if (a.toIds) pattern.push(`network-traffic:${spec.dir}_port = '${a.value}'`);
      }
    }
    return { scos, pattern };
  },
  fromStix(scos, objectUuid) {
    const nt = scos.find((s) => s.id === `network-traffic--${objectUuid}`);
    if (!nt) return [];
    const out: ReadAttr[] = [];
    for (const dir of ['dst', 'src'] as const) {
      const ip = scos.find((s) => s.id === nt[`${dir}_ref`]);
      if (ip && typeof ip.value === 'string') {
        out.push({ type: `ip-${dir}`, objectRelation: dir === 'dst' ? 'ip' : 'ip-src', value: ip.value, uuid: uuidOf(ip.id), frag: `network-traffic:${dir}_ref.value = ${lit(ip.value)}` });
      }
      if (typeof nt[`${dir}_port`] === 'number') out.push({ type: 'port', objectRelation: `${dir}-port`, value: String(nt[`${dir}_port`]), frag: `network-traffic:${dir}_port = '${String(nt[`${dir}_port`])}'` });
    }
    return out;
  },
};

const EMAIL_TEXT: Readonly<Record<string, { type: string; prop: string }>> = {
  subject: { type: 'email-subject', prop: 'subject' }, 'message-id': { type: 'email-message-id', prop: 'message_id' },
};

const email: Template = {
  toStix(o, attrs) {
    const why = unknownRelation(attrs.filter((a) => a.objectRelation !== 'to' && a.objectRelation !== 'cc'), new Set(['from', ...Object.keys(EMAIL_TEXT)]));
    if (why) return why;
    const m: Sco = { type: 'email-message', id: `email-message--${o.uuid}`, is_multipart: false };
    const addrs: Sco[] = [];
    const pattern: string[] = [];
    for (const a of attrs) {
      const r = a.objectRelation!;
      if (r === 'from' || r === 'to' || r === 'cc') {
        const bad = checkType(a, [r === 'from' ? 'email-src' : 'email-dst']);
        if (bad) return bad;
        const ad: Sco = { type: 'email-addr', id: `email-addr--${a.uuid}`, value: a.value };
        addrs.push(ad);
        if (r === 'from') m.from_ref = ad.id;
        else m[`${r}_refs`] = [...((m[`${r}_refs`] as string[] | undefined) ?? []), ad.id];
        const path = r === 'from' ? 'from_ref' : `${r}_refs[${(m[`${r}_refs`] as string[]).length - 1}]`;
        if (a.toIds) pattern.push(`email-message:${path}.value = ${lit(a.value)}`);
      } else {
        const spec = EMAIL_TEXT[r]!;
        const bad = checkType(a, [spec.type]);
        if (bad) return bad;
        m[spec.prop] = a.value;
        if (a.toIds) pattern.push(`email-message:${spec.prop} = ${lit(a.value)}`);
      }
    }
    return { scos: [m, ...addrs], pattern };
  },
  fromStix(scos, objectUuid) {
    const m = scos.find((s) => s.id === `email-message--${objectUuid}`);
    if (!m) return [];
    const out: ReadAttr[] = [];
    const addr = (id: unknown) => scos.find((s) => s.id === id);
    const from = addr(m.from_ref);
    if (from && typeof from.value === 'string') out.push({ type: 'email-src', objectRelation: 'from', value: from.value, uuid: uuidOf(from.id), frag: `email-message:from_ref.value = ${lit(from.value)}` });
    for (const r of ['to', 'cc'] as const) {
      ((m[`${r}_refs`] as string[] | undefined) ?? []).forEach((id, i) => {
        const a = addr(id);
        if (a && typeof a.value === 'string') out.push({ type: 'email-dst', objectRelation: r, value: a.value, uuid: uuidOf(a.id), frag: `email-message:${r}_refs[${i}].value = ${lit(a.value)}` });
      });
    }
    for (const [rel, spec] of Object.entries(EMAIL_TEXT)) {
      if (typeof m[spec.prop] === 'string') out.push({ type: spec.type, objectRelation: rel, value: m[spec.prop] as string, frag: `email-message:${spec.prop} = ${lit(m[spec.prop] as string)}` });
    }
    return out;
  },
};

const URL_EXTRAS: Extras = { domain: 'domain', host: 'hostname', ip: 'ip-dst', port: 'port', scheme: 'text', resource_path: 'text', query_string: 'text', fragment: 'text', text: 'text', 'domain_without_tld': 'text', subdomain: 'text', tld: 'text' };

const url: Template = {
  toStix(o, attrs) {
    const why = unknownRelation(attrs, new Set(['url', ...Object.keys(URL_EXTRAS)]));
    if (why) return why;
    const u = attrs.find((a) => a.objectRelation === 'url');
    if (!u) return 'a url object needs a url';
    const sco: Sco = { type: 'url', id: `url--${o.uuid}`, value: u.value };
    const pattern = u.toIds ? [`url:value = ${lit(u.value)}`] : [];
    for (const a of attrs.filter((x) => x !== u)) {
      const bad = checkType(a, [URL_EXTRAS[a.objectRelation!]!]);
      if (bad) return bad;
      sco[xKey(a.objectRelation!)] = a.value;
      if (a.toIds) pattern.push(`url:${xKey(a.objectRelation!)} = ${lit(a.value)}`);
    }
    return { scos: [sco], pattern };
  },
  fromStix(scos, objectUuid) {
    const s = scos.find((x) => x.id === `url--${objectUuid}`);
    if (!s || typeof s.value !== 'string') return [];
    return [{ type: 'url', objectRelation: 'url', value: s.value, frag: `url:value = ${lit(s.value)}` }, ...readExtras(s, URL_EXTRAS).map((x) => ({ ...x, frag: `url:${xKey(x.objectRelation)} = ${lit(x.value)}` }))];
  },
};

const CREDENTIAL_PROPS: Readonly<Record<string, string>> = { username: 'user_id', password: 'credential' };
const CREDENTIAL_EXTRAS: Extras = { text: 'text', type: 'text', origin: 'text', format: 'text', notification: 'text' };

const credential: Template = {
  toStix(o, attrs) {
    const why = unknownRelation(attrs, new Set([...Object.keys(CREDENTIAL_PROPS), ...Object.keys(CREDENTIAL_EXTRAS)]));
    if (why) return why;
    const s: Sco = { type: 'user-account', id: `user-account--${o.uuid}` };
    const pattern: string[] = [];
    for (const a of attrs) {
      const r = a.objectRelation!;
      const key = CREDENTIAL_PROPS[r] ?? xKey(r);
      if (!CREDENTIAL_PROPS[r]) {
        const bad = checkType(a, [CREDENTIAL_EXTRAS[r]!]);
        if (bad) return bad;
      }
      s[key] = a.value;
      if (a.toIds) pattern.push(`user-account:${key} = ${lit(a.value)}`);
    }
    return { scos: [s], pattern };
  },
  fromStix(scos, objectUuid) {
    const s = scos.find((x) => x.id === `user-account--${objectUuid}`);
    if (!s) return [];
    const out: ReadAttr[] = [];
    for (const [rel, key] of Object.entries(CREDENTIAL_PROPS)) if (typeof s[key] === 'string') out.push({ type: 'text', objectRelation: rel, value: s[key] as string, frag: `user-account:${key} = ${lit(s[key] as string)}` });
    return [...out, ...readExtras(s, CREDENTIAL_EXTRAS).map((x) => ({ ...x, frag: `user-account:${xKey(x.objectRelation)} = ${lit(x.value)}` }))];
  },
};

export const OBJECT_TEMPLATES: Readonly<Record<string, Template>> = { file, 'domain-ip': domainIp, 'ip-port': ipPort, email, url, credential };

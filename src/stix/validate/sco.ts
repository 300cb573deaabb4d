/**
 * Type-specific properties of the STIX 2.1 SCOs (§6). SCOs carry no created/modified;
 * their common properties are checked in common.ts.
 */
import { isPlainObject } from './context.js';
import { bool, dict, en, hashes, int, list, obj, ov, ref, refs, str, strs, ts } from './props.js';
import { checkOrder } from './spec.js';
import type { TypeSpec } from './spec.js';
import * as V from './vocab.js';

const ip = { resolves_to_refs: refs('mac-addr'), belongs_to_refs: refs('autonomous-system') };
const fileTimes = { ctime: ts, mtime: ts, atime: ts };
const mimePart = obj({ body: str(), body_raw_ref: ref('artifact', 'file'), content_type: str(), content_disposition: str() });
const registryValue = obj({ name: str(), data: str(), data_type: en(V.WINDOWS_REGISTRY_DATATYPE_ENUM) });

export const SCO_SPECS: Readonly<Record<string, TypeSpec>> = {
  artifact: {
    required: [],
    props: { mime_type: str('mime'), payload_bin: str('binary'), url: str('uri'), hashes, encryption_algorithm: en(V.ENCRYPTION_ALGORITHM_ENUM), decryption_key: str() },
    check: (o, ctx) => {
      // §6.1: exactly one of payload_bin and url; url requires hashes.
      if (('payload_bin' in o) === ('url' in o)) ctx.error('', 'value.consistency', 'exactly one of payload_bin and url must be present');
      if ('url' in o && !('hashes' in o)) ctx.error('hashes', 'value.consistency', 'hashes are required when url is present');
    },
  },
  'autonomous-system': { required: ['number'], props: { number: int(0, 4_294_967_295), name: str(), rir: str() } },
  directory: { required: ['path'], props: { path: str(), path_enc: str(), ...fileTimes, contains_refs: refs('file', 'directory') } },
  'domain-name': { required: ['value'], props: { value: str(), resolves_to_refs: refs('ipv4-addr', 'ipv6-addr', 'domain-name') } },
  'email-addr': { required: ['value'], props: { value: str('email'), display_name: str(), belongs_to_ref: ref('user-account') } },
  'email-message': {
    required: ['is_multipart'],
    props: {
      is_multipart: bool, date: ts, content_type: str(), from_ref: ref('email-addr'), sender_ref: ref('email-addr'),
      to_refs: refs('email-addr'), cc_refs: refs('email-addr'), bcc_refs: refs('email-addr'), message_id: str(),
      subject: str(), received_lines: strs, additional_header_fields: dict(), body: str(), body_multipart: list(mimePart),
      raw_email_ref: ref('artifact'),
    },
    check: (o, ctx) => {
      // §6.6: body_multipart only for multipart messages, body only for the others.
      if (o['is_multipart'] === true && 'body' in o) ctx.error('body', 'value.consistency', 'body must not be present when is_multipart is true');
      if (o['is_multipart'] === false && 'body_multipart' in o) ctx.error('body_multipart', 'value.consistency', 'body_multipart requires is_multipart true');
      // §6.6.2: each MIME part has exactly one of body and body_raw_ref.
      const parts = o['body_multipart'];
      if (Array.isArray(parts)) {
        parts.forEach((p: unknown, i) => {
          if (isPlainObject(p) && ('body' in p) === ('body_raw_ref' in p)) {
            ctx.error(`body_multipart[${i}]`, 'value.consistency', 'a MIME part has exactly one of body and body_raw_ref');
          }
        });
      }
    },
  },
  file: {
    required: [],
    props: {
      hashes, size: int(0), name: str(), name_enc: str(), magic_number_hex: str('hex'), mime_type: str(), ...fileTimes,
      parent_directory_ref: ref('directory'), contains_refs: refs('@sco'), content_ref: ref('artifact'),
    },
    check: (o, ctx) => {
      if (!('hashes' in o) && !('name' in o)) ctx.error('', 'value.consistency', 'a file needs hashes or name');
    },
  },
  'ipv4-addr': { required: ['value'], props: { value: str('ipv4'), ...ip } },
  'ipv6-addr': { required: ['value'], props: { value: str('ipv6'), ...ip } },
  'mac-addr': { required: ['value'], props: { value: str('mac') } },
  mutex: { required: ['name'], props: { name: str() } },
  'network-traffic': {
    required: ['protocols'],
    props: {
      start: ts, end: ts, is_active: bool, src_ref: ref('ipv4-addr', 'ipv6-addr', 'mac-addr', 'domain-name'),
      dst_ref: ref('ipv4-addr', 'ipv6-addr', 'mac-addr', 'domain-name'), src_port: int(0, 65535), dst_port: int(0, 65535),
      protocols: strs, src_byte_count: int(0), dst_byte_count: int(0), src_packets: int(0), dst_packets: int(0), ipfix: dict(),
      src_payload_ref: ref('artifact'), dst_payload_ref: ref('artifact'), encapsulates_refs: refs('network-traffic'),
      encapsulated_by_ref: ref('network-traffic'),
    },
    check: (o, ctx) => {
      // §6.12: at least one of src_ref, dst_ref; end >= start; an active flow has no end.
      if (!('src_ref' in o) && !('dst_ref' in o)) ctx.error('', 'value.consistency', 'network-traffic needs src_ref or dst_ref');
      if (o['is_active'] === true && 'end' in o) ctx.error('end', 'value.consistency', 'end must not be present when is_active is true');
      checkOrder(o, ctx, { earlier: 'start', later: 'end' });
    },
  },
  process: {
    required: [],
    props: {
      is_hidden: bool, pid: int(0), created_time: ts, cwd: str(), command_line: str(), environment_variables: dict(),
      opened_connection_refs: refs('network-traffic'), creator_user_ref: ref('user-account'), image_ref: ref('file'),
      parent_ref: ref('process'), child_refs: refs('process'),
    },
  },
  software: { required: ['name'], props: { name: str(), cpe: str(), swid: str(), languages: strs, vendor: str(), version: str() } },
  url: { required: ['value'], props: { value: str('uri') } },
  'user-account': {
    required: [],
    props: {
      user_id: str(), credential: str(), account_login: str(), account_type: ov(V.ACCOUNT_TYPE_OV), display_name: str(),
      is_service_account: bool, is_privileged: bool, can_escalate_privs: bool, is_disabled: bool, account_created: ts,
      account_expires: ts, credential_last_changed: ts, account_first_login: ts, account_last_login: ts,
    },
  },
  'windows-registry-key': {
    required: [],
    props: { key: str(), values: list(registryValue), modified_time: ts, creator_user_ref: ref('user-account'), number_of_subkeys: int(0) },
    check: (o, ctx) => {
      // §6.17.1: a registry value has at least one of name, data and data_type.
      const values = o['values'];
      if (Array.isArray(values)) {
        values.forEach((v: unknown, i) => {
          if (isPlainObject(v) && !('name' in v) && !('data' in v) && !('data_type' in v)) {
            ctx.error(`values[${i}]`, 'value.consistency', 'a registry value has at least one of name, data and data_type');
          }
        });
      }
    },
  },
  'x509-certificate': {
    required: [],
    props: {
      is_self_signed: bool, hashes, version: str(), serial_number: str(), signature_algorithm: str(), issuer: str(),
      validity_not_before: ts, validity_not_after: ts, subject: str(), subject_public_key_algorithm: str(),
      subject_public_key_modulus: str(), subject_public_key_exponent: int(0), x509_v3_extensions: dict(),
    },
    check: (o, ctx) => checkOrder(o, ctx, { earlier: 'validity_not_before', later: 'validity_not_after' }),
  },
};

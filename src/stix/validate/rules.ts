/**
 * The validation rules as data (STYLE habit 11): every error the validator reports carries
 * one of these ids, so documentation and tests can enumerate them. Section numbers refer to
 * the STIX 2.1 OASIS Standard unless stated otherwise.
 */
export const VALIDATION_RULES = {
  'input.not-object': 'The input is a JSON object (not null, an array or a primitive).',
  'input.unprocessable': 'Input that cannot be read as plain JSON data (throwing getters, proxies) is rejected.',
  'limits.depth': 'Nesting is bounded (default 32 levels), so hostile input cannot exhaust the stack.',
  'limits.string-length': 'Strings are bounded in length (default 1 MiB).',
  'limits.list-length': 'Lists are bounded in length (default 100 000 items).',
  'limits.property-count': 'Objects and dictionaries are bounded in property count (default 1 000).',
  'type.format': '`type` is 3-250 characters of a-z, 0-9 and hyphens, starting with a letter (§3.1).',
  'type.unknown': '`type` is defined by STIX 2.1, starts with `x-`, or is declared by a new-sdo/new-sco/new-sro extension (§11).',
  'custom.disallowed': 'Custom object types and custom properties are rejected when the caller sets allowCustom: false.',
  'spec-version': '`spec_version` is "2.1"; it is required on SDOs, SROs and meta objects (§3.2).',
  required: 'A property the object type requires is present.',
  'id.format': '`id` and references are `type--UUID` with a lower-case RFC 4122 UUID (§2.9).',
  'id.type-mismatch': 'The type part of `id` equals the object `type` (§2.9).',
  'id.uuid-version': 'Identifier UUIDs are RFC 4122 (version 1-5, variant 10xx); SCOs may use v5 deterministic ids (§2.9).',
  timestamp: 'Timestamps are RFC 3339 UTC with an upper-case Z (§2.14).',
  'timestamp.precision': '`created` and `modified` of versioned objects (all but SCOs and marking definitions) are precise to the millisecond (§3.2).',
  'modified-before-created': '`modified` is later than or equal to `created` (§3.2).',
  'time.order': 'Paired times are ordered: valid_until > valid_from, last_seen >= first_seen, stop_time > start_time, etc.',
  'value.type': 'A property holds the JSON type its definition requires (string, integer, boolean, list, object); no number is beyond the range of a double (`1e400` reads as Infinity and would be stored as `null`, another content).',
  'value.enum': 'A property with a closed vocabulary or enumeration holds one of its values (e.g. opinion, §4.14).',
  'value.range': 'Numbers lie in their range: confidence 0-100, count 0-999999999, latitude/longitude, ports, sizes.',
  'value.format': 'Strings follow their defined format: language tag, hex, base64, MAC/IP address, URL, email address, relationship_type.',
  'value.consistency': 'Properties that depend on one another agree (e.g. artifact payload_bin xor url, malware name for families).',
  'list.empty': 'Lists are not empty (§2.7), e.g. report object_refs, labels, object_marking_refs.',
  'ref.format': 'Every `*_ref` / `*_refs` value is an identifier (§2.9, §3.1 naming).',
  'ref.target-type': 'A reference names an object of an allowed type (created_by_ref -> identity, object_marking_refs -> marking-definition...).',
  'external-reference': 'External references have source_name and at least one of description, url, external_id (§2.5).',
  'granular-marking': 'Granular markings have non-empty selectors and exactly one of marking_ref, lang (§7.2.3).',
  'kill-chain-phase': 'Kill chain phases have kill_chain_name and phase_name strings (§2.8).',
  hashes: 'Hash dictionaries have non-empty keys of at most 250 characters and well-formed digests for known algorithms (§2.6).',
  'dictionary.keys': 'Dictionary keys are 1-250 characters of a-z, A-Z, 0-9, underscore and hyphen; dictionaries are not empty (§2.4).',
  'property.name': 'Custom property names are 3-250 characters of a-z, 0-9 and underscore, starting with a letter (§3.1, §11.1; TAXII §7.1.1).',
  'reserved.property': 'Reserved property names (severity, action, username, phone_numbers, ...) are not used (§3.1).',
  'reserved.type': 'Reserved object type names (action) are not used.',
  'extension.key': '`extensions` keys are extension-definition ids or predefined/legacy `*-ext` names (§7.3).',
  'extension.type': '`extension_type` is one of new-sdo, new-sco, new-sro, property-extension, toplevel-property-extension (§7.3).',
  'extension.value': 'Each extension is a non-empty object (§7.3).',
  'indicator.pattern': 'An indicator with pattern_type "stix" has a pattern that parses as STIX Patterning (§9).',
  'location.position': 'A location has region, country or latitude+longitude; latitude and longitude come together; precision needs both (§4.10).',
  'observed-data.content': 'Observed data has exactly one of objects (deprecated) and object_refs (§4.13).',
  'marking.definition': 'A marking definition has definition_type+definition or extensions; TLP 1.0 and statement definitions are well formed (§7.2).',
} as const;

export type RuleId = keyof typeof VALIDATION_RULES;

export const RULE_IDS = Object.keys(VALIDATION_RULES) as RuleId[];

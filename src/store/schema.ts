/** Table types for Kysely. Booleans are stored as 0/1 integers in both dialects. */
import type { Generated } from 'kysely';

export interface DB {
  meta: { key: string; value: string };
  clock: { name: string; last: number };
  organisations: { id: string; name: string; short_name: string; country: string | null; kind: string; node: string | null; relayed: Generated<number>; created_us: number };
  users: { id: string; org_id: string; username: string; display_name: string; password_hash: string; roles: string; disabled: number; created_us: number };
  tokens: {
    id: string; hash: string; user_id: string | null; org_id: string; kind: string; name: string;
    created_us: number; expires_us: number | null; revoked_us: number | null; last_used_us: number | null;
  };
  sharing_groups: { id: string; name: string; description: string; owner_org: string; created_us: number };
  group_members: { group_id: string; org_id: string };
  collections: { id: string; api_root: string; alias: string | null; title: string; description: string; created_us: number };
  collection_access: { collection_id: string; principal: string; can_read: number; can_write: number };
  objects: {
    seq: Generated<number>; collection_id: string; id: string; type: string; spec_version: string; version: string;
    created: string | null; modified: string | null; date_added: number; creator_org: string | null; tlp: string | null;
    origin_node: string | null; revoked: number; name: string | null; labels: string; search_text: string; json: string;
    source_ref: string | null; target_ref: string | null; provenance: string | null;
  };
  object_recipients: { seq: number; principal: string };
  records: {
    id: string; kind: string; parent_id: string | null; creator_org: string; tlp: string | null; origin_node: string | null;
    exercise_id: string | null; state: string; created_us: number; updated_us: number; rev: number; json: string;
  };
  record_recipients: { record_id: string; principal: string };
  record_events: { seq: Generated<number>; record_id: string; at_us: number; kind: string; org_id: string | null; user_id: string | null; json: string };
  statuses: { id: string; api_root: string; created_us: number; json: string };
  /** The telemetry spool: one row per ingest request, its body compressed (store/spool-codec.ts). */
  ingest_chunks: { seq: Generated<number>; org_id: string; sensor_id: string; received_us: number; exercise_id: string | null; lines: number; formats: string; body: Uint8Array };
  dead_letters: {
    seq: number; org_id: string; sensor_id: string; received_us: number; exercise_id: string | null; event: string; format: string | null;
    reason: string; rule_ref: string | null; attempts: number; created_us: number;
  };
  /** exercise_id '' = real operations (part of the primary key, so never null). */
  telemetry_rates: { org_id: string; sensor_id: string; bucket_us: number; exercise_id: string; events: number; alerts: number };
  alert_facts: {
    id: string; org_id: string; group_key: string; source: string; severity: string; status: string; techniques: string;
    count: number; first_us: number; last_us: number; exercise_id: string | null;
  };
  audit: {
    id: Generated<number>; at_us: number; user_id: string | null; org_id: string | null; token_id: string | null;
    source: string | null; action: string; target: string | null; detail: string | null;
  };
  // correlation & warninglists ----
  observable_values: {
    seq: number; collection_id: string; object_id: string; version: string; kind: string; value: string;
    ip_key: string | null; ip_prefix: number | null; creator_org: string | null; date_added: number;
  };
  /** The seq keying the correlation rows of an object indexed while it had several versions (migration 0013). */
  observable_heads: { collection_id: string; object_id: string; seq: number };
  correlation_frequent: { kind: string; value: string; since_us: number };
  correlation_exclusions: { id: string; type: string; kind: string | null; pattern: string; comment: string; created_us: number; created_by: string | null };
  warninglists: {
    id: string; name: string; version: number; description: string; type: string; matching_attributes: string;
    enabled: number; builtin: number; created_us: number; updated_us: number;
  };
  warninglist_entries: { list_id: string; value: string };
  // ---- end correlation & warninglists
}

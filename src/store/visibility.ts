/**
 * The release policy (access/policy.ts `mayRelease`) in its SQL form, so that lists filter
 * inside the query and pages stay exact. The table-driven test in access/policy.test.ts
 * checks that this and the pure function agree on every marking × relation × hop.
 *
 * Rules (DESIGN §2.1):
 * - CLEAR: everyone, every hop, public exports included.
 * - GREEN: the community: any organisation on this node or a peer; never public.
 * - AMBER: creator, plus named recipients (organisations, or sharing groups they belong to).
 * - AMBER+STRICT: creator, plus named recipient organisations only; a peer only receives it
 *   from the node it was created on (recipients never forward it).
 * - RED: as AMBER+STRICT, and never in bulk exports.
 * - No TLP marking: AMBER with the creator as sole recipient.
 */
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { strictOrgs, type Audience, type Purpose } from '../core/policy.js';

/** Where the recipients of the rows live: STIX object versions, or domain records (incidents, decisions...). */
export type RecipientsTable = { table: 'object_recipients'; key: 'seq' } | { table: 'record_recipients'; key: 'id' };
const OBJECT_RECIPIENTS: RecipientsTable = { table: 'object_recipients', key: 'seq' };

export function visibilitySql(alias: string, audience: Audience, purpose: Purpose, recipients: RecipientsTable = OBJECT_RECIPIENTS): RawBuilder<SqlBool> {
  const col = (c: string) => sql.ref(`${alias}.${c}`);
  if (audience.hop === 'public') return sql<SqlBool>`${col('tlp')} = 'clear'`;
  const org = audience.orgId;
  const orgs = audience.hop === 'peer' && audience.via ? [org, ...audience.via] : [org];
  const principals = [...orgs, ...audience.groupIds];
  const rt = sql.table(recipients.table);
  const rkey = sql.ref(`r.${recipients.table === 'object_recipients' ? 'seq' : 'record_id'}`);
  const recipientIn = (xs: readonly string[]) => sql`exists (select 1 from ${rt} r where ${rkey} = ${col(recipients.key)} and r.principal in (${sql.join([...xs])}))`;
  const creatorIn = (xs: readonly string[]) => sql`${col('creator_org')} in (${sql.join([...xs])})`;
  const fromHere = audience.hop === 'peer' ? sql`${col('origin_node')} is null` : sql`1 = 1`;
  const strictTo = strictOrgs(audience, orgs);
  // A peer that relays for some of the organisations it serves: AMBER+STRICT and RED (never
  // relayed) go to it only for the organisations living on it, as creator or recipient. For
  // everyone else the two sets are one, and the SQL keeps its plain shape.
  const relays = strictTo !== orgs;
  const creator = relays ? sql`(${creatorIn(orgs)} and coalesce(${col('tlp')}, '') not in ('amber+strict', 'red'))` : creatorIn(orgs);
  const strictBy = relays ? sql`(${creatorIn(strictTo)} or (${fromHere} and ${recipientIn(strictTo)}))` : sql`${fromHere} and ${recipientIn(orgs)}`;
  const base = sql<SqlBool>`(${col('tlp')} in ('clear', 'green')
    or ${creator}
    or (${col('tlp')} = 'amber' and ${recipientIn(principals)})
    or (${col('tlp')} in ('amber+strict', 'red') and ${strictBy}))`;
  if (purpose === 'bulk') return sql<SqlBool>`(${base} and (${col('tlp')} is null or ${col('tlp')} <> 'red'))`;
  return base;
}

/**
 * The seq of the first (`asc`) or last (`desc`) version of each named object in each collection
 * that the audience may see: per (collection, id), a probe of the unique (collection_id, id,
 * version) index from that end that stops at the first visible version (Store.queryObjects).
 */
export function visibleExtremeSeqs(q: { ids: readonly string[]; collectionIds: readonly string[]; audience: Audience; purpose: Purpose }, dir: 'asc' | 'desc'): RawBuilder<{ seq: number }> {
  return sql<{ seq: number }>`(select p.seq from (select (select o2.seq from objects o2
    where o2.collection_id = c.id and o2.id = v.column1 and ${visibilitySql('o2', q.audience, q.purpose)}
    order by o2.version ${sql.raw(dir)} limit 1) as seq
    from (values ${sql.join(q.ids.map((id) => sql`(${id})`))}) as v cross join collections c where c.id in (${sql.join([...q.collectionIds])})) as p
    where p.seq is not null)`;
}

/**
 * A new KEV entry that hits a member's inventory raises an alert in that member's operational
 * picture: an ordinary alert record (source `exposure`), so it shows on the COP, the alert list
 * and the live stream like any other. One alert per (organisation, CVE), naming the exposed
 * assets. It is AMBER to the member, and reaches an alliance body only when every exposed
 * asset's release names that body (the alert discloses them all).
 */
import crypto from 'node:crypto';
import type { RecordRow } from '../../store/index.js';
import { ALERT, type AlertDoc } from '../../detect/pipeline/alert-types.js';
import type { ExposureDeps } from './service.js';
import type { ExposureDoc, VulnDoc } from './model.js';

export async function raiseKevAlerts(deps: ExposureDeps, created: readonly { row: RecordRow; doc: ExposureDoc }[], vulnOf: (cve: string) => VulnDoc | null): Promise<number> {
  if (created.length === 0) return 0;
  const orgs = await deps.store.listOrganisations();
  const bodies = new Set(orgs.filter((o) => o.kind === 'alliance-body').map((o) => o.id));
  const names = new Map(orgs.map((o) => [o.id, o.name]));
  const groups = new Map<string, { row: RecordRow; doc: ExposureDoc }[]>();
  for (const c of created) {
    const k = `${c.doc.orgId}\u001f${c.doc.cve}`;
    const list = groups.get(k);
    if (list) list.push(c);
    else groups.set(k, [c]);
  }
  const nowMs = deps.clock.now();
  const nowUs = nowMs * 1000;
  const written: { row: RecordRow; doc: AlertDoc }[] = [];
  await deps.store.transaction(async (tx) => {
    let i = 0;
    for (const list of groups.values()) {
      const first = list[0]!.doc;
      const v = vulnOf(first.cve);
      const recipientSets = list.map((c) => new Set(c.row.recipients.filter((r) => bodies.has(r))));
      const recipients = [...recipientSets[0]!].filter((r) => recipientSets.every((s) => s.has(r))).sort();
      const assets = [...new Set(list.map((c) => c.doc.assetName))].sort();
      const iso = new Date(nowMs).toISOString();
      const doc: AlertDoc = {
        orgId: first.orgId, sensorId: 'readiness:kev', source: 'exposure',
        title: `Known exploited ${first.cve}${v?.kev ? ` (${v.kev.vendorProject} ${v.kev.product})` : ''} affects ${assets.length} asset${assets.length === 1 ? '' : 's'}`,
        severity: v?.kev?.ransomware ? 'critical' : 'high', assignee: null, entity: first.cve, groupKey: ['exposure', first.cve, first.orgId].join(' · '),
        count: list.length, firstSeen: iso, lastSeen: iso, techniques: [],
        matched: { kind: 'exposure', cve: first.cve, kev: true, ransomware: v?.kev?.ransomware === true, exposures: list.map((c) => c.row.id), assets, dueDate: first.dueDate },
        samples: [], incidentId: null,
      };
      const at = nowUs + i++;
      const row: RecordRow = {
        id: `${ALERT}--${crypto.randomUUID()}`, kind: ALERT, parentId: null, creatorOrg: first.orgId, tlp: 'amber', recipients, originNode: null,
        exerciseId: null, state: 'new', createdUs: at, updatedUs: at, rev: 1, json: JSON.stringify(doc),
      };
      await tx.putRecord(row);
      await tx.appendRecordEvent({ recordId: row.id, atUs: at, kind: 'alert.created', orgId: null, userId: null, json: JSON.stringify({ source: 'exposure', severity: doc.severity, count: doc.count }) });
      await tx.putAlertFacts({
        id: row.id, orgId: doc.orgId, groupKey: ['', doc.orgId, 'exposure', first.cve, first.cve].join('\u001f'), source: 'exposure', severity: doc.severity, status: 'new',
        techniques: [], count: doc.count, firstUs: at, lastUs: at, exerciseId: null,
      });
      written.push({ row, doc });
    }
  });
  for (const w of written) {
    deps.bus.publish({
      type: `${ALERT}.created`, subject: w.row.id, atUs: w.row.updatedUs, exerciseId: null,
      facts: { tlp: w.row.tlp, creatorOrg: w.row.creatorOrg, recipients: w.row.recipients, originNode: null },
      data: { ...w.doc, id: w.row.id, status: 'new', orgName: names.get(w.doc.orgId) ?? null, rev: 1, exerciseId: null },
    });
  }
  return written.length;
}

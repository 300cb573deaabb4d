/**
 * The yearly readiness report of a member (what the reader may see of it) and the alliance
 * summary for the annual review (aggregates only), as JSON and as PDF (pdfkit, server-side).
 */
import { AppError } from '../core/errors.js';
import type { AuthedActor } from '../respond/index.js';
import type { Aggregates, AssessmentService, FunctionScore } from './assessment/service.js';
import type { AuditService } from './audit/service.js';
import type { RecoveryService } from './recovery/service.js';

export interface MemberReport {
  orgId: string;
  orgName: string;
  year: number;
  frameworkKey: string;
  assessment: { id: string; state: string; submittedAt: string | null; scores: FunctionScore[] } | null;
  previous: { year: number; scores: FunctionScore[] } | null;
  aggregates: Aggregates;
  findings: { open: number; overdue: number; resolved: number };
  vitalFunctions: { name: string; rtoMinutes: number; lastRecoveryMinutes: number | null; rtoCompliant: boolean | null }[];
}
export interface AllianceSummary {
  year: number;
  frameworkKey: string;
  aggregates: Aggregates;
  previous: Aggregates;
}

export class ReportService {
  constructor(private readonly parts: { assessments: AssessmentService; audits: AuditService; recovery: RecoveryService; orgName: (id: string) => Promise<string | null> }) {}

  /**
   * A member's report. Its detail parts come only from what the reader may see: another
   * organisation without a release of that member's assessment gets 404, as for any record.
   */
  async member(actor: AuthedActor, orgId: string, year: number, frameworkKey: string): Promise<MemberReport> {
    const { assessments, audits, recovery } = this.parts;
    const mine = orgId === actor.principal.orgId;
    const visible = await assessments.list(actor, { orgId, frameworkKey });
    const name = await this.parts.orgName(orgId);
    const cur = visible.find((a) => a.year === year);
    // Another organisation's report exists for the reader only with that year's assessment released to it.
    if (!name || (!mine && !cur)) throw new AppError('NOT_FOUND', `no readiness report for ${orgId.slice(0, 60)} in ${year}`);
    const prev = visible.filter((a) => a.year < year && a.state === 'submitted').sort((a, b) => b.year - a.year)[0];
    const findings = await audits.listFindings(actor, { orgId });
    const vfs = (await recovery.list(actor)).filter((v) => v.orgId === orgId);
    return {
      orgId, orgName: name, year, frameworkKey,
      assessment: cur ? { id: cur.id, state: cur.state, submittedAt: cur.submittedAt, scores: cur.scores } : null,
      previous: prev ? { year: prev.year, scores: prev.scores } : null,
      aggregates: await assessments.aggregates({ ...actor, principal: { ...actor.principal, orgId } }, frameworkKey, year),
      findings: {
        open: findings.filter((f) => f.status === 'open' || f.status === 'in-progress').length, overdue: findings.filter((f) => f.overdue).length,
        resolved: findings.filter((f) => f.status === 'resolved' || f.status === 'accepted').length,
      },
      vitalFunctions: vfs.map((v) => ({ name: v.name, rtoMinutes: v.rtoMinutes, lastRecoveryMinutes: v.recoveries.at(-1)?.minutes ?? null, rtoCompliant: v.rtoCompliant })),
    };
  }

  async alliance(actor: AuthedActor, year: number, frameworkKey: string): Promise<AllianceSummary> {
    const a = this.parts.assessments;
    const anon = { ...actor, principal: { ...actor.principal, orgId: '' } };
    return { year, frameworkKey, aggregates: await a.aggregates(anon, frameworkKey, year), previous: await a.aggregates(anon, frameworkKey, year - 1) };
  }
}

export function memberPdf(r: MemberReport, now: Date): Promise<Buffer> {
  return render(now, (doc) => {
    doc.fontSize(18).text(`Readiness report ${r.year}: ${r.orgName}`);
    doc.fontSize(10).fillColor('#555').text(`Framework ${r.frameworkKey} · generated ${now.toISOString()}`).fillColor('#000').moveDown();
    doc.fontSize(13).text('Maturity by function');
    doc.fontSize(10);
    if (!r.assessment) doc.text('No assessment for this year.');
    for (const s of r.assessment?.scores ?? []) {
      const prev = r.previous?.scores.find((p) => p.group === s.group)?.score;
      const agg = r.aggregates.functions.find((f) => f.group === s.group);
      doc.text(`${s.group} ${s.title}: ${fmt(s.score)}${prev !== undefined ? ` (${r.previous!.year}: ${fmt(prev ?? null)})` : ''} · alliance median ${fmt(agg?.median ?? null)}${agg?.q1 != null ? `, quartiles ${agg.q1}–${agg.q3}` : ''}`);
    }
    doc.moveDown().fontSize(13).text('Remediation').fontSize(10);
    doc.text(`Open findings: ${r.findings.open} · overdue: ${r.findings.overdue} · resolved: ${r.findings.resolved}`);
    doc.moveDown().fontSize(13).text('Vital functions and RTO').fontSize(10);
    if (!r.vitalFunctions.length) doc.text('No vital functions recorded.');
    for (const v of r.vitalFunctions) {
      doc.text(`${v.name}: RTO ${v.rtoMinutes} min · last recovery ${v.lastRecoveryMinutes ?? '—'} min · ${v.rtoCompliant === null ? 'not yet measured' : v.rtoCompliant ? 'within RTO' : 'RTO missed'}`);
    }
  });
}

export function alliancePdf(s: AllianceSummary, now: Date): Promise<Buffer> {
  return render(now, (doc) => {
    doc.fontSize(18).text(`Alliance readiness summary ${s.year}`);
    doc.fontSize(10).fillColor('#555').text(`Framework ${s.frameworkKey} · ${s.aggregates.members} members submitted · generated ${now.toISOString()}`).fillColor('#000').moveDown();
    for (const f of s.aggregates.functions) {
      const p = s.previous.functions.find((x) => x.group === f.group);
      doc.text(`${f.group} ${f.title}: median ${fmt(f.median)}${f.q1 !== null ? `, quartiles ${f.q1}–${f.q3}` : ''}${p ? ` (${s.year - 1}: ${fmt(p.median)})` : ''}${f.withheld ? ` — ${f.withheld}` : ''}`);
    }
  });
}

/** pdfkit is loaded on first use: the CLI and server start without its fonts in memory. */
async function render(now: Date, body: (doc: PDFKit.PDFDocument) => void): Promise<Buffer> {
  const { default: PDFDocument } = await import('pdfkit');
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ size: 'A4', margin: 50, info: { Title: 'Shieldwall readiness report', CreationDate: now } });
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    body(doc);
    doc.end();
  });
}

const fmt = (x: number | null): string => (x === null ? '—' : String(x));

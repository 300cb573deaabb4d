/**
 * The after-action report as a PDF, drawn with pdfkit (no browser at run time): a title page
 * with the score per team as a bar chart, then per team a page with objectives, the inject table
 * (state, time to detect and to respond), expectations met/missed and the timeline; then
 * lessons learned and control's evaluations. Input is the report JSON of model.ts, so the PDF
 * says exactly what GET /exercises/:id/report says. Standard PDF fonts only (WinAnsi): text
 * outside it is transliterated so nothing throws on user content.
 */
// pdfkit is loaded when a PDF is made (it and its fonts would weigh on every CLI start otherwise).
import type { AfterActionReport } from '../model.js';

export interface PdfOptions {
  /** Uncompressed content streams (tests read the text); default compressed. */
  compress?: boolean;
}

const MARGIN = 50;
const COLOURS = ['#2f6db5', '#c2571a', '#3a8a3f', '#8a3fa0', '#b0902a', '#1f8a8a', '#a03a3a', '#555555'];

/** WinAnsi-safe text: Helvetica's AFM cannot draw other code points. */
function safe(s: string | null | undefined, max = 2000): string {
  return (s ?? '').normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[–—]/g, '-').replace(/[“”]/g, '"').replace(/[‘’]/g, "'")
    .replace(/→/g, '->').replace(/[^\x20-\x7e\n\u00a0-\u00ff]/g, '?').slice(0, max);
}

export function duration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60 ? `${s % 60} s` : ''}`.trim();
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

const pct = (score: number, max: number): string => (max > 0 ? `${Math.round((100 * score) / max)} %` : '-');

interface Column { title: string; width: number; align?: 'left' | 'right' }

function table(doc: PDFKit.PDFDocument, columns: Column[], rows: string[][]): void {
  const x0 = MARGIN;
  const rowHeight = (cells: string[]) => Math.max(14, ...cells.map((c, i) => doc.heightOfString(c, { width: columns[i]!.width - 6 }) + 4));
  const header = () => {
    doc.font('Helvetica-Bold').fontSize(8);
    let x = x0;
    const y = doc.y;
    for (const c of columns) {
      doc.text(c.title, x + 3, y + 2, { width: c.width - 6, align: c.align ?? 'left' });
      x += c.width;
    }
    doc.moveTo(x0, y + 14).lineTo(x, y + 14).strokeColor('#888888').lineWidth(0.5).stroke();
    doc.y = y + 16;
    doc.font('Helvetica').fontSize(8);
  };
  header();
  for (const r of rows) {
    const cells = r.map((c) => safe(c, 400));
    const h = rowHeight(cells);
    if (doc.y + h > doc.page.height - MARGIN) {
      doc.addPage();
      header();
    }
    const y = doc.y;
    let x = x0;
    cells.forEach((c, i) => {
      doc.text(c, x + 3, y + 2, { width: columns[i]!.width - 6, align: columns[i]!.align ?? 'left' });
      x += columns[i]!.width;
    });
    doc.y = y + h;
  }
  doc.x = MARGIN;
  doc.moveDown(0.6);
}

/** Horizontal bars, one per label, scaled to the largest max. */
function bars(doc: PDFKit.PDFDocument, items: { label: string; value: number; max: number }[], unit: (v: number, max: number) => string): void {
  const labelWidth = 140;
  const width = doc.page.width - 2 * MARGIN - labelWidth - 60;
  const top = Math.max(1, ...items.map((i) => i.max), ...items.map((i) => i.value));
  doc.fontSize(9).font('Helvetica');
  items.forEach((it, k) => {
    if (doc.y + 20 > doc.page.height - MARGIN) doc.addPage();
    const y = doc.y;
    doc.fillColor('#000000').text(safe(it.label, 60), MARGIN, y + 2, { width: labelWidth - 6 });
    doc.rect(MARGIN + labelWidth, y, width * (it.max / top), 12).fillColor('#e3e7ec').fill();
    doc.rect(MARGIN + labelWidth, y, Math.max(0.5, width * (it.value / top)), 12).fillColor(COLOURS[k % COLOURS.length]!).fill();
    doc.fillColor('#000000').text(unit(it.value, it.max), MARGIN + labelWidth + width + 6, y + 2, { width: 60 });
    doc.y = y + 18;
  });
  doc.x = MARGIN;
  doc.fillColor('#000000').moveDown(0.5);
}

function heading(doc: PDFKit.PDFDocument, text: string, size = 14): void {
  if (doc.y > doc.page.height - MARGIN - 60) doc.addPage();
  doc.x = MARGIN;
  doc.moveDown(0.4).font('Helvetica-Bold').fontSize(size).fillColor('#000000').text(safe(text, 200)).moveDown(0.3).font('Helvetica').fontSize(9);
}

function renderInto(doc: PDFKit.PDFDocument, r: AfterActionReport): void {
  const ex = r.exercise;
  doc.rect(0, 0, doc.page.width, 28).fillColor('#b3261e').fill();
  doc.fillColor('#ffffff').font('Helvetica-Bold').fontSize(11).text(`EXERCISE - ${safe(ex.name, 120)}`, MARGIN, 9, { width: doc.page.width - 2 * MARGIN });
  doc.fillColor('#000000').moveDown(2);
  doc.x = MARGIN;
  doc.font('Helvetica-Bold').fontSize(20).text('After-action report');
  doc.font('Helvetica').fontSize(10).moveDown(0.3);
  doc.text(`Exercise: ${safe(ex.name, 200)}`);
  doc.text(`Scenario: ${safe(ex.scenario.name, 200)} (${ex.scenario.category})`);
  doc.text(`Status: ${ex.status} - speed ${ex.speed}x - started ${ex.startedAt ?? '-'} - ended ${ex.endedAt ?? '-'}`);
  doc.text(`Generated: ${r.generatedAt}`);
  if (ex.scenario.storyline) doc.moveDown(0.5).fontSize(9).text(safe(ex.scenario.storyline, 3000));

  heading(doc, 'Scores per team');
  bars(doc, r.teams.map((t) => ({ label: t.name, value: t.score, max: t.max })), (v, max) => `${Math.round(v)}/${Math.round(max)}`);
  table(doc, [
    { title: 'Team', width: 150 }, { title: 'Score', width: 70, align: 'right' }, { title: '%', width: 50, align: 'right' },
    { title: 'Met', width: 50, align: 'right' }, { title: 'Partial', width: 55, align: 'right' }, { title: 'Missed', width: 55, align: 'right' }, { title: 'Pending', width: 65, align: 'right' },
  ], r.teams.map((t) => [t.name, `${Math.round(t.score)}/${Math.round(t.max)}`, pct(t.score, t.max), String(t.expectations.met), String(t.expectations.partial), String(t.expectations.missed), String(t.expectations.pending)]));

  const ttd = r.teams.flatMap((t) => t.injects.filter((i) => i.timeToDetectSeconds !== null).map((i) => ({ label: `${t.name}: ${i.title}`, value: i.timeToDetectSeconds!, max: i.timeToDetectSeconds! })));
  if (ttd.length) {
    heading(doc, 'Time to detect per team and inject');
    bars(doc, ttd, (v) => duration(v));
  }

  for (const t of r.teams) {
    doc.addPage();
    heading(doc, `Team ${t.name}`, 16);
    doc.text(`Score ${Math.round(t.score)} of ${Math.round(t.max)} (${pct(t.score, t.max)}); expectations met ${t.expectations.met}, partial ${t.expectations.partial}, missed ${t.expectations.missed}, pending ${t.expectations.pending}.`);
    if (t.objectives.length) {
      heading(doc, 'Objectives', 12);
      table(doc, [{ title: 'Objective', width: 230 }, { title: 'Priority', width: 70 }, { title: 'Score', width: 90, align: 'right' }, { title: 'Control evaluation', width: 105, align: 'right' }],
        t.objectives.map((o) => [o.title, o.priority, `${Math.round(o.score)}/${Math.round(o.max)}`, o.evaluation === null ? '-' : String(o.evaluation)]));
    }
    heading(doc, 'Injects', 12);
    table(doc, [
      { title: 'Inject', width: 170 }, { title: 'State', width: 60 }, { title: 'Fired', width: 115 },
      { title: 'Time to detect', width: 75, align: 'right' }, { title: 'Time to respond', width: 75, align: 'right' },
    ], t.injects.map((i) => [i.title + (i.reason ? ` (${i.reason})` : ''), i.state, i.firedAt ?? '-', duration(i.timeToDetectSeconds), duration(i.timeToRespondSeconds)]));
    heading(doc, 'Expectations', 12);
    table(doc, [{ title: 'Inject', width: 130 }, { title: 'Expectation', width: 120 }, { title: 'Status', width: 70 }, { title: 'Score', width: 80, align: 'right' }, { title: 'Validated after', width: 95, align: 'right' }],
      t.expectations.items.map((e) => [e.injectId, `${e.name} (${e.type})`, e.status, `${e.score ?? '-'}/${e.expectedScore}`, duration(e.timeToValidateSeconds)]));
    if (t.timeline.length) {
      heading(doc, 'Timeline', 12);
      table(doc, [{ title: 'When', width: 130 }, { title: 'What', width: 80 }, { title: 'Detail', width: 285 }],
        t.timeline.slice(0, 500).map((e) => [new Date(e.at).toISOString(), e.kind, e.text]));
    }
  }

  if (r.lessons.length) {
    doc.addPage();
    heading(doc, 'Lessons learned', 16);
    for (const c of r.lessons) {
      heading(doc, c.name, 12);
      for (const q of c.questions) {
        doc.font('Helvetica-Bold').fontSize(9).text(safe(q.content, 1000)).font('Helvetica');
        for (const a of q.answers ?? []) doc.text(`+ ${safe(a.positive, 1000)}   - ${safe(a.negative, 1000)}   (score ${a.score})`, { indent: 12 });
        doc.moveDown(0.3);
      }
    }
  }
  if (r.evaluations.length) {
    heading(doc, "Control's evaluations", 14);
    table(doc, [{ title: 'Objective', width: 150 }, { title: 'Team', width: 90 }, { title: 'Score', width: 50, align: 'right' }, { title: 'Comment', width: 205 }],
      r.evaluations.map((e) => [e.objectiveId, r.teams.find((t) => t.teamId === e.teamId)?.name ?? (e.teamId ?? 'all'), String(e.score), e.comment ?? '']));
  }
}

/** The report as PDF bytes. */
export async function reportPdf(report: AfterActionReport, opts: PdfOptions = {}): Promise<Buffer> {
  const { default: PDFDocument } = await import('pdfkit');
  const doc = new PDFDocument({
    size: 'A4', margin: MARGIN, compress: opts.compress ?? true,
    info: { Title: safe(`After-action report - ${report.exercise.name}`, 200), Creator: 'Shieldwall', Subject: 'EXERCISE' },
  });
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    try {
      renderInto(doc, report);
      doc.end();
    } catch (e) {
      reject(e instanceof Error ? e : new Error(String(e)));
    }
  });
}

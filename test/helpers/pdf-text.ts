/**
 * Just enough PDF reading to check a generated report: the page count (page objects) and the
 * text drawn by its content streams (Flate streams inflated; TJ/Tj operands, hex or literal,
 * as WinAnsi). Written for pdfkit's output with the standard fonts, not for arbitrary PDFs.
 */
import zlib from 'node:zlib';

export function pdfPageCount(pdf: Buffer): number {
  return (pdf.toString('latin1').match(/\/Type\s*\/Page(?![s\w])/g) ?? []).length;
}

function streams(pdf: Buffer): string[] {
  const s = pdf.toString('latin1');
  const out: string[] = [];
  const re = /<<((?:(?!>>).)*?)>>\s*stream\r?\n/gs;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const start = m.index + m[0].length;
    const end = s.indexOf('endstream', start);
    if (end < 0) break;
    const raw = pdf.subarray(start, end);
    if (/\/FlateDecode/.test(m[1]!)) {
      try {
        out.push(zlib.inflateSync(raw).toString('latin1'));
      } catch {
        // an image or a font program: not text
      }
    } else {
      out.push(raw.toString('latin1'));
    }
    re.lastIndex = end;
  }
  return out;
}

const literal = (s: string): string => s.replace(/\\([nrtbf()\\]|\d{1,3})/g, (_, e: string) => (/\d/.test(e) ? String.fromCharCode(parseInt(e, 8)) : ({ n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' } as Record<string, string>)[e] ?? e));
const hex = (h: string): string => (h.replace(/\s/g, '').match(/../g) ?? []).map((b) => String.fromCharCode(parseInt(b, 16))).join('');

/** Text of every TJ/Tj in the content streams, one line per operator. */
export function pdfText(pdf: Buffer): string {
  const lines: string[] = [];
  for (const content of streams(pdf)) {
    const ops = /\[((?:[^\]\\]|\\.)*)\]\s*TJ|(<[0-9a-fA-F\s]*>|\((?:[^()\\]|\\.)*\))\s*Tj/g;
    for (let m = ops.exec(content); m; m = ops.exec(content)) {
      const operand = m[1] ?? m[2] ?? '';
      const parts = operand.match(/<[0-9a-fA-F\s]*>|\((?:[^()\\]|\\.)*\)/g) ?? [];
      lines.push(parts.map((p) => (p.startsWith('<') ? hex(p.slice(1, -1)) : literal(p.slice(1, -1)))).join(''));
    }
  }
  return lines.join('\n');
}

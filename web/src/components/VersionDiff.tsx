/** Property-level difference between two versions of one STIX object (top-level properties). */
import type { StixObject } from '../types.js';

export type Change = { key: string; kind: 'added' | 'removed' | 'changed'; before?: unknown; after?: unknown };

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function diffObjects(before: StixObject, after: StixObject): Change[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const out: Change[] = [];
  for (const key of keys) {
    const inB = Object.hasOwn(before, key);
    const inA = Object.hasOwn(after, key);
    if (inB && !inA) out.push({ key, kind: 'removed', before: before[key] });
    else if (!inB && inA) out.push({ key, kind: 'added', after: after[key] });
    else if (!same(before[key], after[key])) out.push({ key, kind: 'changed', before: before[key], after: after[key] });
  }
  return out;
}

const show = (v: unknown) => (v === undefined ? '' : JSON.stringify(v, null, 1));

export function VersionDiff({ selected, latest }: { selected: StixObject; latest: StixObject }) {
  const changes = diffObjects(selected, latest);
  if (changes.length === 0) return <p className="muted" data-testid="diff-none">This is the latest version.</p>;
  return (
    <table className="data diff" data-testid="version-diff">
      <caption>Changes from the selected version to the latest</caption>
      <thead><tr><th scope="col">Property</th><th scope="col">Selected version</th><th scope="col">Latest</th></tr></thead>
      <tbody>
        {changes.map((c) => (
          <tr key={c.key} className={`diff-${c.kind}`} data-testid="diff-row">
            <th scope="row"><code>{c.key}</code> <span className="muted small">{c.kind}</span></th>
            <td><pre>{show(c.before)}</pre></td>
            <td><pre>{show(c.after)}</pre></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

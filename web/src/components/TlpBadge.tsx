/**
 * TLP 2.0 label as FIRST specifies it: the label text in the TLP colour on a black background
 * (FIRST TLP 2.0, "TLP colours in RGB": RED #FF2B2B, AMBER #FFC000, GREEN #33FF00, CLEAR #FFFFFF).
 */
import type { Tlp } from '../types.js';

export function tlpLabel(tlp: Tlp | null): string {
  return tlp ? `TLP:${tlp.toUpperCase()}` : 'No TLP';
}

export function TlpBadge({ tlp, count }: { tlp: Tlp | null; count?: number }) {
  const cls = tlp ? `tlp tlp-${tlp.replace('+', '-')}` : 'tlp tlp-none';
  const label = tlpLabel(tlp);
  return (
    <span className={cls} data-testid="tlp-badge" data-tlp={tlp ?? 'none'}
      title={tlp ? undefined : 'No TLP marking: treated as TLP:AMBER for the creator only'}>
      {label}
      {count !== undefined && <span className="tlp-count" aria-label={`${count} objects`}> {count}</span>}
    </span>
  );
}

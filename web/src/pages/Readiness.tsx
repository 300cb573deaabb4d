/**
 * Readiness (issue #12): a page with tabs. This file owns the shell and the tabs of the
 * assessment side (dashboard, self-assessment, findings, recovery, reports); the exposure side
 * adds its tabs in its own files and appends them to READINESS_TABS below.
 */
import type { ReactNode } from 'react';
import { href } from '../router.js';
import { ReadinessDashboard } from './ReadinessDashboard.js';
import { AssessmentTab, FindingsTab, RecoveryTab, ReportsTab } from './ReadinessParts.js';
import { Inventory } from './Inventory.js';
import { Exposures } from './Exposures.js';
import { Advisories } from './Advisories.js';

export interface ReadinessTab { id: string; label: string; render: (params: URLSearchParams) => ReactNode }

/** Tabs in order; append new ones at the end. */
export const READINESS_TABS: ReadinessTab[] = [
  { id: 'dashboard', label: 'Dashboard', render: (p) => <ReadinessDashboard params={p} /> },
  { id: 'assessment', label: 'Self-assessment', render: () => <AssessmentTab /> },
  { id: 'findings', label: 'Audit findings', render: () => <FindingsTab /> },
  { id: 'recovery', label: 'Recovery', render: () => <RecoveryTab /> },
  { id: 'reports', label: 'Reports', render: () => <ReportsTab /> },
  // The exposure side's pages (also at their own routes #/readiness/inventory, …).
  { id: 'inventory', label: 'Inventory', render: () => <Inventory /> },
  { id: 'exposures', label: 'Exposures', render: () => <Exposures /> },
  { id: 'advisories', label: 'Advisories', render: () => <Advisories /> },
];

export function Readiness({ params }: { params: URLSearchParams }) {
  const current = READINESS_TABS.find((t) => t.id === params.get('tab')) ?? READINESS_TABS[0]!;
  return (
    <section data-testid="readiness-page">
      <h1>Readiness</h1>
      <nav aria-label="Readiness sections" className="tabs">
        <ul role="tablist">
          {READINESS_TABS.map((t) => (
            <li key={t.id} role="presentation">
              <a role="tab" href={href.readiness(t.id)} aria-selected={t.id === current.id} aria-current={t.id === current.id ? 'page' : undefined}>{t.label}</a>
            </li>
          ))}
        </ul>
      </nav>
      <div role="tabpanel" aria-label={current.label}>{current.render(params)}</div>
    </section>
  );
}
